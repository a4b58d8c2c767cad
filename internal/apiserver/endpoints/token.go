package endpoints

import (
	"context"
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/auth/serviceaccount"
)

var (
	serviceAccountsGVR = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	secretsGVR         = corev1.SchemeGroupVersion.WithResource("secrets")
	tokenRequestGVK    = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
)

// TokenRequest limits, as kube-apiserver validates them.
const (
	defaultTokenSeconds = 60 * 60
	minTokenSeconds     = 10 * 60
	maxTokenSeconds     = 1 << 32
)

// serveToken issues a service-account token: POST
// serviceaccounts/<name>/token with a TokenRequest, answered with the
// request completed by the token and its expiry, as kube-apiserver does.
func (h *Handler) serveToken(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	if info.Verb != "create" {
		h.writeError(w, r, methodNotSupported(schema.GroupResource{Resource: "serviceaccounts/token"}, info.Verb))
		return
	}
	if h.tokens == nil {
		h.writeError(w, r, apierrors.NewServiceUnavailable("this server has no service-account signing key"))
		return
	}
	req, err := h.decodeTokenRequest(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out, err := h.issueToken(ctx, info.Namespace, info.Name, req)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusCreated, out, authenticationv1.SchemeGroupVersion)
}

func (h *Handler) decodeTokenRequest(r *http.Request) (*authenticationv1.TokenRequest, error) {
	in, err := negotiateInput(r, h.infos)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	req := &authenticationv1.TokenRequest{}
	gvk := tokenRequestGVK
	if _, _, err := in.Serializer.Decode(body, &gvk, req); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return req, nil
}

// issueToken completes req for the service account namespace/name.
func (h *Handler) issueToken(ctx context.Context, namespace, name string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	gk := tokenRequestGVK.GroupKind()
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewInvalid(gk, name, field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), req.Name,
			"must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != namespace {
		return nil, apierrors.NewInvalid(gk, name, field.ErrorList{field.Invalid(field.NewPath("metadata", "namespace"), req.Namespace,
			"must match the service account namespace if specified")})
	}
	// Issuing reads the latest objects, so that a pod created a moment ago
	// can have its token.
	objects := storeGetter{stores: h.stores}
	serviceAccount, err := objects.GetServiceAccount(ctx, namespace, name)
	if err != nil {
		return nil, err
	}

	now := h.clock.Now()
	out := req.DeepCopy()
	out.Name, out.Namespace, out.UID = serviceAccount.Name, serviceAccount.Namespace, serviceAccount.UID
	out.CreationTimestamp = metav1.NewTime(now)
	out.Status = authenticationv1.TokenRequestStatus{}
	if len(out.Spec.Audiences) == 0 {
		out.Spec.Audiences = h.tokens.APIAudiences()
	}
	if out.Spec.ExpirationSeconds == nil {
		seconds := int64(defaultTokenSeconds)
		out.Spec.ExpirationSeconds = &seconds
	}
	if errs := validateTokenRequest(out); len(errs) > 0 {
		return nil, apierrors.NewInvalid(gk, "", errs)
	}
	bound, err := h.tokenBinding(ctx, objects, namespace, name, out.Spec.BoundObjectRef)
	if err != nil {
		return nil, err
	}
	seconds := *out.Spec.ExpirationSeconds
	token, _, err := h.tokens.Issue(serviceAccount, bound, out.Spec.Audiences, seconds, now)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out.Status = authenticationv1.TokenRequestStatus{
		Token:               token,
		ExpirationTimestamp: metav1.NewTime(now.Add(time.Duration(seconds) * time.Second)),
	}
	return out, nil
}

func validateTokenRequest(req *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "expirationSeconds")
	switch seconds := *req.Spec.ExpirationSeconds; {
	case seconds < minTokenSeconds:
		errs = append(errs, field.Invalid(path, seconds, "may not specify a duration less than 10 minutes"))
	case seconds > maxTokenSeconds:
		errs = append(errs, field.Invalid(path, seconds, "may not specify a duration larger than 2^32 seconds"))
	}
	return errs
}

// tokenBinding resolves the object a token is to be bound to: a pod
// running as the service account (and the node it runs on, for the
// record), a secret or a node, which must exist with the UID given.
func (h *Handler) tokenBinding(ctx context.Context, objects storeGetter, namespace, saName string, ref *authenticationv1.BoundObjectReference) (serviceaccount.Binding, error) {
	var bound serviceaccount.Binding
	if ref == nil {
		return bound, nil
	}
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid string
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		pod, err := objects.GetPod(ctx, namespace, ref.Name)
		if err != nil {
			return bound, err
		}
		if pod.Spec.ServiceAccountName != saName {
			return bound, apierrors.NewBadRequest(fmt.Sprintf(
				"cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		uid = string(pod.UID)
		bound.Pod = &serviceaccount.Ref{Name: pod.Name, UID: uid}
		if nodeName := pod.Spec.NodeName; nodeName != "" {
			// The node is recorded for the token's users; a node that
			// cannot be read is recorded by name only.
			bound.Node = &serviceaccount.Ref{Name: nodeName}
			cached := storeGetter{stores: objects.stores, recent: true}
			if node, err := cached.GetNode(ctx, nodeName); err == nil {
				bound.Node.UID = string(node.UID)
			}
		}
	case gvk.Group == "" && gvk.Kind == "Secret":
		secret, err := objects.GetSecret(ctx, namespace, ref.Name)
		if err != nil {
			return bound, err
		}
		uid = string(secret.UID)
		bound.Secret = &serviceaccount.Ref{Name: secret.Name, UID: uid}
	case gvk.Group == "" && gvk.Kind == "Node":
		node, err := objects.GetNode(ctx, ref.Name)
		if err != nil {
			return bound, err
		}
		uid = string(node.UID)
		bound.Node = &serviceaccount.Ref{Name: node.Name, UID: uid}
	default:
		return bound, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return bound, apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name, fmt.Errorf(
			"the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return bound, nil
}

// ServiceAccountObjects reads what service-account tokens name from the
// API's own stores (the watch caches), for the token authenticator.
func (h *Handler) ServiceAccountObjects() serviceaccount.Getter {
	return storeGetter{stores: h.stores, recent: true}
}

// storeGetter is a serviceaccount.Getter over the registry stores.
type storeGetter struct {
	stores map[schema.GroupVersionResource]*registry.Store
	// recent reads what the watch cache holds, and storage only for an
	// object the cache has not heard of yet (a service account created a
	// moment ago, whose token must not be called invalidated; upstream's
	// getter falls back from its informer to a live read the same way):
	// enough for authentication, where a token must die soon after its
	// pod, not in the same instant, and which must not cost a storage
	// read per request. Otherwise every read is of the latest revision.
	recent bool
}

var _ serviceaccount.Getter = storeGetter{}

func (g storeGetter) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (any, error) {
	store, ok := g.stores[gvr]
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	if g.recent {
		return store.GetRecent(ctx, namespace, name)
	}
	return store.Get(ctx, namespace, name, nil)
}

// GetServiceAccount implements serviceaccount.Getter.
func (g storeGetter) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	obj, err := g.get(ctx, serviceAccountsGVR, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ServiceAccount), nil
}

// GetPod implements serviceaccount.Getter.
func (g storeGetter) GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := g.get(ctx, podsGVR, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// GetSecret implements serviceaccount.Getter.
func (g storeGetter) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	obj, err := g.get(ctx, secretsGVR, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Secret), nil
}

// GetNode implements serviceaccount.Getter.
func (g storeGetter) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	// Spelled out: nodeproxy.go has its own nodesGVR.
	obj, err := g.get(ctx, corev1.SchemeGroupVersion.WithResource("nodes"), "", name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Node), nil
}
