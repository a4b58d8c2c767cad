package endpoints

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// maxBodyBytes caps request bodies, as Kubernetes does (3 MiB objects plus
// encoding overhead).
const maxBodyBytes = 3 * 1024 * 1024 * 2

func badRequest(err error) error { return apierrors.NewBadRequest(err.Error()) }

func gvOf(store *registry.Store) schema.GroupVersion { return store.Resource.GVR.GroupVersion() }

func (h *Handler) get(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts := &metav1.GetOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		h.writeError(w, r, badRequest(err))
		return
	}
	obj, err := store.Get(ctx, info.Namespace, info.Name, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, obj, gvOf(store))
}

func (h *Handler) listOptions(r *http.Request) (*metav1.ListOptions, error) {
	opts := &metav1.ListOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, badRequest(err)
	}
	if opts.ResourceVersionMatch != "" && opts.ResourceVersion == "" {
		return nil, apierrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	}
	if opts.Continue != "" && opts.ResourceVersionMatch != "" {
		return nil, apierrors.NewBadRequest("resourceVersionMatch is forbidden when continue is provided")
	}
	if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact && opts.ResourceVersion == "0" {
		return nil, apierrors.NewBadRequest("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")
	}
	return opts, nil
}

// watchOptions decodes a watch's options and checks them.
func (h *Handler) watchOptions(r *http.Request) (*metav1.ListOptions, error) {
	opts := &metav1.ListOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, badRequest(err)
	}
	return opts, checkWatchOptions(opts)
}

// checkWatchOptions applies the rules of a watch's options, which differ
// from a list's: resourceVersionMatch (NotOlderThan only) goes with
// sendInitialEvents, with or without a resourceVersion (none: the initial
// events are a consistent read).
func checkWatchOptions(opts *metav1.ListOptions) error {
	match := opts.ResourceVersionMatch
	if match == "" {
		return nil
	}
	switch {
	case opts.SendInitialEvents == nil:
		return apierrors.NewBadRequest("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
	case match != metav1.ResourceVersionMatchNotOlderThan:
		return apierrors.NewBadRequest(fmt.Sprintf("resourceVersionMatch %q is not supported for watch: only %q",
			match, metav1.ResourceVersionMatchNotOlderThan))
	case opts.Continue != "":
		return apierrors.NewBadRequest("resourceVersionMatch is forbidden when continue is provided")
	}
	return nil
}

func (h *Handler) list(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts, err := h.listOptions(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := store.List(ctx, info.Namespace, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, list, gvOf(store))
}

// decodeBody decodes the request body into a new object of the store's
// kind, with the request's field validation.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, store *registry.Store) (runtime.Object, error) {
	infos := h.infosFor(store)
	obj, err := h.decodeRequestIn(w, r, infos, store.Resource.GroupVersionKind(), store.Resource.New)
	if err != nil {
		return nil, err
	}
	return obj, pruneUnknownFields(w, r, store, obj)
}

// pruneUnknownFields drops the fields of obj that its schema does not know,
// for the strategies that prune (custom resources), and reports them as
// the request's fieldValidation asks: Strict fails, Warn (the default)
// warns, Ignore drops them silently.
func pruneUnknownFields(w http.ResponseWriter, r *http.Request, store *registry.Store, obj runtime.Object) error {
	pruner, ok := store.Strategy.(registry.UnknownFieldPruner)
	if !ok {
		return nil
	}
	pruned := pruner.PruneUnknownFields(obj)
	if len(pruned) == 0 {
		return nil
	}
	messages := make([]string, len(pruned))
	for i, path := range pruned {
		messages[i] = fmt.Sprintf("unknown field %q", path)
	}
	switch r.URL.Query().Get("fieldValidation") {
	case "Strict":
		kind := store.Resource.Kind
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
			kind, store.Resource.GVR.Version, kind, strings.Join(messages, ", ")))
	case "Ignore":
	default:
		warn(w, messages)
	}
	return nil
}

// decodeRequest decodes the request body, by its Content-Type and with
// its field validation, into a new object of kind gvk.
func (h *Handler) decodeRequest(w http.ResponseWriter, r *http.Request, gvk schema.GroupVersionKind, newObj func() runtime.Object) (runtime.Object, error) {
	return h.decodeRequestIn(w, r, h.infos, gvk, newObj)
}

// decodeRequestIn is decodeRequest with the encodings the resource takes.
func (h *Handler) decodeRequestIn(w http.ResponseWriter, r *http.Request, infos []runtime.SerializerInfo,
	gvk schema.GroupVersionKind, newObj func() runtime.Object) (runtime.Object, error) {
	info, err := negotiateInput(r, infos)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	obj, gotGVK, err := decodeValidatedAs(w, r, info, body, gvk, newObj)
	if err != nil {
		if runtime.IsStrictDecodingError(err) {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized: %v", err))
	}
	if gotGVK != nil && *gotGVK != gvk {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)",
			gotGVK.GroupVersion(), gvk.GroupVersion()))
	}
	return obj, nil
}

// decodeValidated decodes data into a new object of the store's kind,
// honoring fieldValidation: Strict fails on unknown or duplicate fields,
// Warn (the default) reports them in Warning headers, Ignore drops them.
func decodeValidated(w http.ResponseWriter, r *http.Request, info runtime.SerializerInfo, data []byte,
	store *registry.Store) (runtime.Object, *schema.GroupVersionKind, error) {
	return decodeValidatedAs(w, r, info, data, store.Resource.GroupVersionKind(), store.Resource.New)
}

// decodeValidatedAs is decodeValidated into a new object of kind gvk.
func decodeValidatedAs(w http.ResponseWriter, r *http.Request, info runtime.SerializerInfo, data []byte,
	gvk schema.GroupVersionKind, newObj func() runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	validation := r.URL.Query().Get("fieldValidation")
	decoder := info.Serializer
	if info.StrictSerializer != nil && (validation == "Strict" || validation == "Warn" || validation == "") {
		decoder = info.StrictSerializer
	}
	obj, gotGVK, err := decoder.Decode(data, &gvk, newObj())
	if err != nil && runtime.IsStrictDecodingError(err) && validation != "Strict" {
		if validation != "Ignore" {
			warn(w, strictErrors(err))
		}
		obj, gotGVK, err = info.Serializer.Decode(data, &gvk, newObj())
	}
	return obj, gotGVK, err
}

func strictErrors(err error) []string {
	var out []string
	if s, ok := runtime.AsStrictDecodingError(err); ok {
		for _, e := range s.Errors() {
			out = append(out, e.Error())
		}
	}
	return out
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("read request body: %v", err))
	}
	if len(body) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	return body, nil
}

func (h *Handler) create(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts := &metav1.CreateOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		h.writeError(w, r, badRequest(err))
		return
	}
	obj, err := h.decodeBody(w, r, store)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.checkNamespace(ctx, store, info.Namespace); err != nil {
		h.writeError(w, r, err)
		return
	}
	// The client's fields are its own; what admission then adds (a
	// service account's token volume, default tolerations) belongs to no
	// manager, as in Kubernetes.
	if obj, err = h.trackFields(store, "", nil, obj, managerName(r, opts.FieldManager)); err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.admission != nil {
		a := &admission.Attributes{
			Operation: admission.Create, Resource: store.Resource.GVR, Namespace: info.Namespace, Object: obj,
			DryRun: registry.IsDryRun(opts.DryRun),
		}
		err := h.admission.Admit(ctx, a)
		warn(w, a.Warnings)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	out, err := store.Create(ctx, info.Namespace, obj, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusCreated, out, gvOf(store))
}

func (h *Handler) update(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo, subresource string) {
	opts := &metav1.UpdateOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		h.writeError(w, r, badRequest(err))
		return
	}
	obj, err := h.decodeBody(w, r, store)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	manager := managerName(r, opts.FieldManager)
	out, created, err := store.Update(ctx, info.Namespace, info.Name,
		h.admitted(w, store, info, subresource, registry.IsDryRun(opts.DryRun), func(_ context.Context, current runtime.Object) (runtime.Object, error) {
			return h.trackFields(store, subresource, current, obj.DeepCopyObject(), manager)
		}),
		registry.UpdateOptions{DryRun: registry.IsDryRun(opts.DryRun), Subresource: subresource})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	h.respond(w, r, code, out, gvOf(store))
}

func (h *Handler) deleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		info, err := negotiateInput(r, h.infos)
		if err != nil {
			return nil, err
		}
		gvk := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
		if _, _, err := info.Serializer.Decode(body, &gvk, opts); err != nil {
			return nil, badRequest(err)
		}
	}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, badRequest(err)
	}
	return opts, nil
}

func (h *Handler) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts, err := h.deleteOptions(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out, gone, err := store.Delete(ctx, info.Namespace, info.Name, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Upstream answers 200 with the object still present (a graceful or
	// finalized deletion) and keeps 202 for the one case its clients
	// expect it: cascading deletion asked for with orphanDependents=false.
	code := http.StatusOK
	if !gone && opts.OrphanDependents != nil && !*opts.OrphanDependents { //nolint:staticcheck // deprecated, still honored by clients and upstream
		code = http.StatusAccepted
	}
	h.respond(w, r, code, out, gvOf(store))
}

func (h *Handler) deleteCollection(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts, err := h.deleteOptions(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	listOpts, err := h.listOptions(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out, err := store.DeleteCollection(ctx, info.Namespace, opts, listOpts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, out, gvOf(store))
}
