package endpoints

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/auth/serviceaccount"
)

// TableFunc converts an object or list into a Table.
type TableFunc func(obj runtime.Object, noHeaders bool, includeObject metav1.IncludeObjectPolicy, now time.Time) (*metav1.Table, error)

// Config is what the Handler serves.
type Config struct {
	Scheme *runtime.Scheme
	// Stores serve each resource.
	Stores map[schema.GroupVersionResource]*registry.Store
	// Table builds Table responses.
	Table TableFunc
	// Clock is for Table ages; nil means the real clock.
	Clock clock.PassiveClock
	// FieldManagers tracks managedFields and serves server-side apply; nil
	// disables both.
	FieldManagers *FieldManagers
	// Admission sees every create and update before it is stored; nil
	// admits all.
	Admission admission.Plugin
	// KubeletClient is the TLS config for reaching kubelets (pods/log,
	// exec, attach, portforward, nodes/proxy): the cluster CA as RootCAs
	// and a system:masters client certificate. nil answers those with 503.
	KubeletClient *tls.Config
	// Tokens issues service-account tokens (serviceaccounts/token); nil
	// answers 503 there.
	Tokens *serviceaccount.Issuer
	// Custom finds the store of a custom resource (of a CRD) that Stores
	// does not hold; nil serves none.
	Custom func(schema.GroupVersionResource) (*registry.Store, bool)
}

// Handler serves every resource request.
type Handler struct {
	scheme   *runtime.Scheme
	codecs   serializer.CodecFactory
	params   runtime.ParameterCodec
	infos    []runtime.SerializerInfo
	jsonInfo runtime.SerializerInfo
	// textInfos are JSON and YAML: custom resources have no protobuf.
	textInfos []runtime.SerializerInfo
	custom    func(schema.GroupVersionResource) (*registry.Store, bool)
	stores    map[schema.GroupVersionResource]*registry.Store
	table     TableFunc
	clock     clock.PassiveClock
	namespace *registry.Store
	fields    *FieldManagers
	admission admission.Plugin
	// kubeletTransport reaches kubelets; nil without KubeletClient.
	kubeletTransport *http.Transport
	tokens           *serviceaccount.Issuer
	// encodings shares the encoding of each watched object among its
	// watchers.
	encodings sharedEncodings
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	codecs := serializer.NewCodecFactory(cfg.Scheme)
	h := &Handler{
		scheme: cfg.Scheme,
		codecs: codecs,
		params: runtime.NewParameterCodec(parameterScheme()),
		stores: cfg.Stores,
		table:  cfg.Table,
		clock:  cfg.Clock,
		fields: cfg.FieldManagers,
	}
	h.admission = cfg.Admission
	h.kubeletTransport = newKubeletTransport(cfg.KubeletClient)
	h.tokens = cfg.Tokens
	h.custom = cfg.Custom
	if h.clock == nil {
		h.clock = clock.RealClock{}
	}
	for _, info := range codecs.SupportedMediaTypes() {
		switch info.MediaType {
		case runtime.ContentTypeJSON, runtime.ContentTypeYAML:
			h.textInfos = append(h.textInfos, info)
			h.infos = append(h.infos, info)
		case runtime.ContentTypeProtobuf:
			h.infos = append(h.infos, info)
		}
		if info.MediaType == runtime.ContentTypeJSON {
			h.jsonInfo = info
		}
	}
	h.namespace = cfg.Stores[schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}]
	return h
}

// parameterScheme knows how to decode query parameters into the meta
// options types.
func parameterScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, metav1.SchemeGroupVersion)
	utilruntime.Must(metav1.AddMetaToScheme(s))
	return s
}

// ServeHTTP implements http.Handler for resource requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := RequestInfoFor(r)
	if !info.IsResourceRequest {
		h.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	gvr := schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource}
	if gvr == bindingsGVR || (gvr == podsGVR && info.Subresource == "binding") {
		h.serveBinding(r.Context(), w, r, info)
		return
	}
	if gvr == podsGVR && info.Subresource == "eviction" {
		h.serveEviction(r.Context(), w, r, info)
		return
	}
	store, ok := h.stores[gvr]
	if !ok && h.custom != nil {
		store, ok = h.custom(gvr)
	}
	if !ok {
		h.writeError(w, r, notFoundPath(r))
		return
	}
	res := store.Resource
	// A namespaced resource under a cluster path (other than list and watch
	// across namespaces) or a cluster resource under a namespace is no path.
	if res.GVR.Resource != "namespaces" {
		acrossNamespaces := res.Namespaced && info.Namespace == "" && info.Name == "" &&
			(info.Verb == "list" || info.Verb == "watch" || info.Verb == "deletecollection")
		if (info.Namespace != "") != res.Namespaced && !acrossNamespaces {
			h.writeError(w, r, notFoundPath(r))
			return
		}
	}
	if info.Subresource != "" {
		h.serveSubresource(w, r, store, info)
		return
	}
	if !hasVerb(res.Verbs, info.Verb) {
		h.writeError(w, r, methodNotSupported(res.GVR.GroupResource(), info.Verb))
		return
	}
	ctx := r.Context()
	switch info.Verb {
	case "get":
		h.get(ctx, w, r, store, info)
	case "list":
		h.list(ctx, w, r, store, info)
	case "watch":
		h.watch(ctx, w, r, store, info)
	case "create":
		h.create(ctx, w, r, store, info)
	case "update":
		h.update(ctx, w, r, store, info, "")
	case "patch":
		h.patch(ctx, w, r, store, info, "")
	case "delete":
		h.delete(ctx, w, r, store, info)
	case "deletecollection":
		h.deleteCollection(ctx, w, r, store, info)
	default:
		h.writeError(w, r, methodNotSupported(res.GVR.GroupResource(), info.Verb))
	}
}

// serveSubresource serves status, scale, token and finalize here; the
// node-facing subresources go to the node's kubelet (nodeproxy.go), the
// proxies to pods and services to their addresses (podproxy.go).
func (h *Handler) serveSubresource(w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	var sub *resources.Subresource
	for i := range store.Resource.Subresources {
		if store.Resource.Subresources[i].Name == info.Subresource {
			sub = &store.Resource.Subresources[i]
		}
	}
	if sub == nil || info.Name == "" {
		h.writeError(w, r, notFoundPath(r))
		return
	}
	ctx := r.Context()
	switch {
	case sub.Name == "status" && info.Verb == "get":
		h.get(ctx, w, r, store, info)
	case sub.Name == "status" && info.Verb == "update":
		h.update(ctx, w, r, store, info, "status")
	case sub.Name == "status" && info.Verb == "patch":
		h.patch(ctx, w, r, store, info, "status")
	case sub.Name == "status":
		h.writeError(w, r, methodNotSupported(store.GroupResource(), info.Verb))
	case sub.Name == "scale":
		h.serveScale(ctx, w, r, store, info)
	case sub.Name == "token" && store.Resource.GVR == serviceAccountsGVR:
		h.serveToken(ctx, w, r, info)
	case sub.Name == "finalize" && info.Verb == "update":
		h.update(ctx, w, r, store, info, "finalize")
	case store.Resource.GVR == podsGVR && (sub.Name == "log" || sub.Name == "exec" || sub.Name == "attach" || sub.Name == "portforward"):
		h.servePodNodeSubresource(ctx, w, r, store, info)
	case store.Resource.GVR.GroupResource() == (schema.GroupResource{Resource: "nodes"}) && sub.Name == "proxy":
		h.serveNodeProxy(ctx, w, r, info)
	case writesPart(store, sub.Name) && info.Verb == "get":
		h.get(ctx, w, r, store, info)
	case writesPart(store, sub.Name) && info.Verb == "update":
		h.update(ctx, w, r, store, info, sub.Name)
	case writesPart(store, sub.Name) && info.Verb == "patch":
		h.patch(ctx, w, r, store, info, sub.Name)
	case store.Resource.GVR == podsGVR && sub.Name == "proxy":
		h.servePodProxy(ctx, w, r, info)
	case store.Resource.GVR == servicesGVR && sub.Name == "proxy":
		h.serveServiceProxy(ctx, w, r, info)
	default:
		h.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf(
			"%s/%s is not served by this server yet", store.Resource.GVR.Resource, sub.Name)))
	}
}

// writesPart reports a subresource that reads the whole object and writes
// one part of it, by the strategy's rules (registry.PartUpdater).
func writesPart(store *registry.Store, sub string) bool {
	parts, ok := store.Strategy.(registry.PartUpdater)
	return ok && parts.WritesPart(sub)
}

// infosFor are the encodings a store's objects come in.
func (h *Handler) infosFor(store *registry.Store) []runtime.SerializerInfo {
	if store.Resource.Custom {
		return h.textInfos
	}
	return h.infos
}

// encoderFor encodes obj as gv with s. Custom resources' objects are
// unstructured, already of the version served, and not in the scheme: they
// are encoded as they are, without the scheme's conversion (which also
// sets the kind on the object, shared with other readers).
func (h *Handler) encoderFor(s runtime.Encoder, obj runtime.Object, gv schema.GroupVersion) runtime.Encoder {
	if IsCustom(obj) {
		return s
	}
	return h.codecs.EncoderForVersion(s, gv)
}

// IsCustom reports a custom resource or a list of them: the only
// unstructured objects the endpoints serve.
func IsCustom(obj runtime.Object) bool {
	switch obj.(type) {
	case *unstructured.Unstructured, *unstructured.UnstructuredList:
		return true
	}
	return false
}

func hasVerb(verbs []string, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}

func notFoundPath(r *http.Request) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotFound,
		Reason:  metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource",
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: metav1.CauseTypeUnexpectedServerResponse, Message: "404 page not found: " + r.URL.Path}}},
	}}
}

func methodNotSupported(gr schema.GroupResource, verb string) error {
	return apierrors.NewMethodNotSupported(gr, verb)
}

// trackFields records the fields manager sets in obj (relative to live,
// nil for a create) in obj's managedFields.
func (h *Handler) trackFields(store *registry.Store, subresource string, live, obj runtime.Object, manager string) (runtime.Object, error) {
	k, err := h.fields.kind(store.Resource, subresource)
	if err != nil || k == nil {
		return obj, err
	}
	fm := k.manager
	if store.Resource.Custom {
		// The fast paths below read typed objects.
		if live == nil {
			live = store.Resource.New()
		}
		return fm.UpdateNoErrors(live, obj, manager), nil
	}
	if live == nil {
		return h.fields.created.track(fm, store.Resource.New(), obj, manager), nil
	}
	key := entryKey{apiVersion: store.Resource.GroupVersionKind().GroupVersion().String(), subresource: subresource}
	return updateManagedFields(k, live, obj, manager, key), nil
}

// checkNamespace refuses creates in namespaces that do not exist or are
// terminating, as the NamespaceLifecycle admission plugin does.
func (h *Handler) checkNamespace(ctx context.Context, store *registry.Store, namespace string) error {
	if !store.Resource.Namespaced || h.namespace == nil {
		return nil
	}
	obj, err := h.namespace.GetRecent(ctx, "", namespace)
	if err != nil {
		return err
	}
	if accessor, ok := obj.(metav1.Object); ok && accessor.GetDeletionTimestamp() != nil {
		return apierrors.NewForbidden(store.GroupResource(), "",
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", namespace))
	}
	return nil
}
