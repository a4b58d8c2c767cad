package validatingpolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/admission"
)

var _ admission.Plugin = (*Plugin)(nil)

// Sources are what the plugin reads. Each function may serve from a
// cache (the watch cache): a policy or binding takes effect a moment
// after it is written, as upstream's informer-fed plugin does. The plugin
// must not mutate what they return.
type Sources struct {
	// Policies lists every ValidatingAdmissionPolicy.
	Policies func(ctx context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicy, error)
	// Bindings lists every ValidatingAdmissionPolicyBinding. It is asked
	// first, on every write: with none, nothing else is read.
	Bindings func(ctx context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicyBinding, error)
	// Namespace gets one namespace, for namespaceSelector and
	// namespaceObject.
	Namespace func(ctx context.Context, name string) (*corev1.Namespace, error)
	// Params lists the objects of a policy's paramKind in namespace (all
	// namespaces when empty) and says whether the kind is namespaced. It
	// returns a NotFound error for a kind it does not serve. Nil: policies
	// with a paramKind fail to configure.
	Params func(ctx context.Context, kind admissionregistrationv1.ParamKind, namespace string) (objs []runtime.Object, namespaced bool, err error)
	// User returns the requesting user, for request.userInfo. Optional.
	User func(ctx context.Context) (authenticationv1.UserInfo, bool)
}

// Plugin enforces ValidatingAdmissionPolicies. Use New; it is safe for
// concurrent use.
type Plugin struct {
	src      Sources
	programs *programCache
}

// New returns a plugin reading from src.
func New(src Sources) *Plugin {
	return &Plugin{src: src, programs: newProgramCache()}
}

// denial is one refusal: a failed validation or a configuration error
// under failurePolicy Fail.
type denial struct {
	policy, binding string
	message         string
	reason          metav1.StatusReason
}

// Admit implements admission.Plugin.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	bindings, err := p.src.Bindings(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("list validating admission policy bindings: %w", err))
	}
	if len(bindings) == 0 {
		return nil
	}
	policies, err := p.src.Policies(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("list validating admission policies: %w", err))
	}
	p.programs.prune(policies)
	byName := make(map[string]*admissionregistrationv1.ValidatingAdmissionPolicy, len(policies))
	for i := range policies {
		byName[policies[i].Name] = &policies[i]
	}
	r, err := p.newRequest(ctx, a)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	for i := range bindings {
		b := &bindings[i]
		policy := byName[b.Spec.PolicyName]
		if policy == nil {
			continue // upstream skips bindings of missing policies
		}
		d, err := p.evaluate(ctx, r, policy, b)
		if err != nil {
			return err
		}
		if d == nil {
			continue
		}
		if err := act(ctx, r, d, b.Spec.ValidationActions); err != nil {
			return err
		}
	}
	return nil
}

// act carries out a binding's validation actions for a denial.
func act(ctx context.Context, r *request, d *denial, actions []admissionregistrationv1.ValidationAction) error {
	for _, action := range actions {
		switch action {
		case admissionregistrationv1.Deny:
			return d.err(r)
		case admissionregistrationv1.Warn, admissionregistrationv1.Audit:
			// tug's admission interface carries no warnings or audit
			// annotations: the failure is logged instead.
			klog.FromContext(ctx).V(2).Info("Validation failed for ValidatingAdmissionPolicy",
				"policy", d.policy, "binding", d.binding, "action", action, "message", d.message)
		}
	}
	return nil
}

// err is d as the API error upstream returns: a Forbidden status whose
// reason and code the validation chose.
func (d *denial) err(r *request) error {
	message := fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", d.policy, d.binding, d.message)
	e := &apierrors.StatusError{}
	if !errors.As(apierrors.NewForbidden(r.resource.GroupResource(), r.errorName(), errors.New(message)), &e) {
		return apierrors.NewInternalError(errors.New(message))
	}
	reason := d.reason
	if reason == "" {
		reason = metav1.StatusReasonInvalid
	}
	e.ErrStatus.Reason = reason
	e.ErrStatus.Code = reasonCode(reason)
	e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{Message: message})
	return e
}

func reasonCode(r metav1.StatusReason) int32 {
	switch r {
	case metav1.StatusReasonForbidden:
		return http.StatusForbidden
	case metav1.StatusReasonUnauthorized:
		return http.StatusUnauthorized
	case metav1.StatusReasonRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusUnprocessableEntity
	}
}

// request is one write, prepared once for every policy: its objects as
// CEL sees them and what matching needs.
type request struct {
	attrs     *admission.Attributes
	resource  schema.GroupVersionResource
	kind      schema.GroupVersionKind
	name      string
	generate  string
	labels    map[string]string
	oldLabels map[string]string
	object    map[string]any // nil for none
	oldObject map[string]any
	// namespace is read on first use: cluster-scoped writes never need it.
	namespace       *corev1.Namespace
	namespaceLoaded bool
	vars            map[string]any // the CEL activation, without params and variables
}

func (p *Plugin) newRequest(ctx context.Context, a *admission.Attributes) (*request, error) {
	r := &request{attrs: a, resource: a.Resource}
	var err error
	if r.object, err = toMap(a.Object); err != nil {
		return nil, fmt.Errorf("convert object for validating admission policies: %w", err)
	}
	if r.oldObject, err = toMap(a.Old); err != nil {
		return nil, fmt.Errorf("convert old object for validating admission policies: %w", err)
	}
	r.kind = kindOf(a.Object, a.Resource)
	if a.Object != nil {
		if m, err := meta.Accessor(a.Object); err == nil {
			r.name, r.generate, r.labels = m.GetName(), m.GetGenerateName(), m.GetLabels()
		}
		setTypeMeta(r.object, r.kind)
	}
	if a.Old != nil {
		if m, err := meta.Accessor(a.Old); err == nil {
			r.oldLabels = m.GetLabels()
			if r.name == "" {
				r.name = m.GetName()
			}
		}
		setTypeMeta(r.oldObject, r.kind)
	}
	req := map[string]any{
		"uid":                "",
		"kind":               map[string]any{"group": r.kind.Group, "version": r.kind.Version, "kind": r.kind.Kind},
		"resource":           map[string]any{"group": r.resource.Group, "version": r.resource.Version, "resource": r.resource.Resource},
		"subResource":        a.Subresource,
		"requestKind":        map[string]any{"group": r.kind.Group, "version": r.kind.Version, "kind": r.kind.Kind},
		"requestResource":    map[string]any{"group": r.resource.Group, "version": r.resource.Version, "resource": r.resource.Resource},
		"requestSubResource": a.Subresource,
		"name":               r.name,
		"namespace":          a.Namespace,
		"operation":          string(a.Operation),
		"dryRun":             a.DryRun,
	}
	if p.src.User != nil {
		if u, ok := p.src.User(ctx); ok {
			req["userInfo"] = userMap(u)
		}
	}
	r.vars = map[string]any{
		"object":    nilIfEmpty(r.object),
		"oldObject": nilIfEmpty(r.oldObject),
		"request":   req,
	}
	return r, nil
}

// errorName is the name the denial reports; a generated name is not
// chosen yet, so its prefix stands in, as upstream's does.
func (r *request) errorName() string {
	if r.name != "" {
		return r.name
	}
	return r.generate
}

// namespaceObj returns the request's namespace, nil for cluster-scoped
// requests.
func (r *request) namespaceObj(ctx context.Context, get func(context.Context, string) (*corev1.Namespace, error)) (*corev1.Namespace, error) {
	if r.attrs.Namespace == "" || get == nil {
		return nil, nil
	}
	if !r.namespaceLoaded {
		ns, err := get(ctx, r.attrs.Namespace)
		if err != nil {
			return nil, fmt.Errorf("get namespace %s: %w", r.attrs.Namespace, err)
		}
		r.namespace, r.namespaceLoaded = ns, true
	}
	return r.namespace, nil
}

func userMap(u authenticationv1.UserInfo) map[string]any {
	groups := make([]any, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = g
	}
	extra := make(map[string]any, len(u.Extra))
	for k, v := range u.Extra {
		vals := make([]any, len(v))
		for i, s := range v {
			vals[i] = s
		}
		extra[k] = vals
	}
	return map[string]any{"username": u.Username, "uid": u.UID, "groups": groups, "extra": extra}
}

// toMap converts obj to the JSON-like map CEL sees; nil stays nil.
func toMap(obj runtime.Object) (map[string]any, error) {
	if obj == nil {
		return nil, nil
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.Object, nil
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}

// nilIfEmpty turns a nil map into an untyped nil, which CEL sees as null.
func nilIfEmpty(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// setTypeMeta fills apiVersion and kind, which typed objects inside the
// server usually lack, so that object.kind works as clients expect.
func setTypeMeta(m map[string]any, gvk schema.GroupVersionKind) {
	if m == nil || gvk.Kind == "" {
		return
	}
	if _, ok := m["kind"]; !ok {
		m["kind"] = gvk.Kind
	}
	if _, ok := m["apiVersion"]; !ok {
		m["apiVersion"] = gvk.GroupVersion().String()
	}
}

// kindOf is the kind of obj in the request's group and version.
func kindOf(obj runtime.Object, gvr schema.GroupVersionResource) schema.GroupVersionKind {
	if obj == nil {
		return schema.GroupVersionKind{}
	}
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" {
		return gvk
	}
	kinds, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil || len(kinds) == 0 {
		return schema.GroupVersionKind{}
	}
	for _, k := range kinds {
		if k.Group == gvr.Group && k.Version == gvr.Version {
			return k
		}
	}
	return kinds[0]
}

// trimmed drops whitespace, as upstream does for messages.
func trimmed(s string) string { return strings.TrimSpace(s) }
