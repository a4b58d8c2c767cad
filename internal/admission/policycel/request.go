package policycel

import (
	"context"
	"fmt"
	"maps"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tugcluster/tug/internal/admission"
)

// RequestSources are what a Request reads besides the write itself.
type RequestSources struct {
	// Namespace gets one namespace, for namespaceSelector and
	// namespaceObject. Nil: namespaces are never read.
	Namespace func(ctx context.Context, name string) (*corev1.Namespace, error)
	// User returns the requesting user, for request.userInfo. Optional.
	User func(ctx context.Context) (authenticationv1.UserInfo, bool)
}

// Request is one write, prepared once for every policy: its objects as
// CEL sees them and what matching needs. It is not safe for concurrent
// use.
type Request struct {
	Attrs    *admission.Attributes
	Resource schema.GroupVersionResource
	Kind     schema.GroupVersionKind
	// Object and OldObject are the objects as CEL sees them, nil for none.
	// They are shared with the CEL activation: replace them (SetObject),
	// never change them in place.
	Object    map[string]any
	OldObject map[string]any

	name      string
	generate  string
	labels    map[string]string
	oldLabels map[string]string
	getNS     func(ctx context.Context, name string) (*corev1.Namespace, error)
	// namespace is read on first use: cluster-scoped writes never need it.
	namespace       *corev1.Namespace
	namespaceValue  any
	namespaceLoaded bool
	vars            map[string]any // the CEL activation, without params and variables
}

// NewRequest prepares a for policies.
func NewRequest(ctx context.Context, a *admission.Attributes, src RequestSources) (*Request, error) {
	r := &Request{Attrs: a, Resource: a.Resource, getNS: src.Namespace}
	var err error
	if r.Object, err = ToMap(a.Object); err != nil {
		return nil, fmt.Errorf("convert object for admission policies: %w", err)
	}
	if r.OldObject, err = ToMap(a.Old); err != nil {
		return nil, fmt.Errorf("convert old object for admission policies: %w", err)
	}
	r.Kind = kindOf(a.Object, a.Resource)
	if a.Object != nil {
		if m, err := meta.Accessor(a.Object); err == nil {
			r.name, r.generate, r.labels = m.GetName(), m.GetGenerateName(), m.GetLabels()
		}
		SetTypeMeta(r.Object, r.Kind)
	}
	if a.Old != nil {
		if m, err := meta.Accessor(a.Old); err == nil {
			r.oldLabels = m.GetLabels()
			if r.name == "" {
				r.name = m.GetName()
			}
		}
		SetTypeMeta(r.OldObject, r.Kind)
	}
	req := map[string]any{
		"uid":                "",
		"kind":               map[string]any{"group": r.Kind.Group, "version": r.Kind.Version, "kind": r.Kind.Kind},
		"resource":           map[string]any{"group": r.Resource.Group, "version": r.Resource.Version, "resource": r.Resource.Resource},
		"subResource":        a.Subresource,
		"requestKind":        map[string]any{"group": r.Kind.Group, "version": r.Kind.Version, "kind": r.Kind.Kind},
		"requestResource":    map[string]any{"group": r.Resource.Group, "version": r.Resource.Version, "resource": r.Resource.Resource},
		"requestSubResource": a.Subresource,
		"name":               r.name,
		"namespace":          a.Namespace,
		"operation":          string(a.Operation),
		"dryRun":             a.DryRun,
	}
	if src.User != nil {
		if u, ok := src.User(ctx); ok {
			req["userInfo"] = userMap(u)
		}
	}
	r.vars = map[string]any{
		VarObject:    nilIfEmpty(r.Object),
		VarOldObject: nilIfEmpty(r.OldObject),
		VarRequest:   req,
	}
	return r, nil
}

// SetObject replaces the object policies see (after a mutation): later
// expressions and matching read m. m must not be changed afterwards.
func (r *Request) SetObject(m map[string]any) {
	r.Object = m
	r.vars[VarObject] = nilIfEmpty(m)
	r.labels = nil
	if md, ok := m["metadata"].(map[string]any); ok {
		if l, ok := md["labels"].(map[string]any); ok {
			r.labels = make(map[string]string, len(l))
			for k, v := range l {
				if s, ok := v.(string); ok {
					r.labels[k] = s
				}
			}
		}
	}
}

// Activation returns the variables of one evaluation: the request's with
// namespaceObject and params; the caller adds `variables`
// (EvalVariables).
func (r *Request) Activation(namespace, params any) map[string]any {
	vars := maps.Clone(r.vars)
	vars[VarNamespace] = namespace
	vars[VarParams] = params
	return vars
}

// Name is the name of the object written.
func (r *Request) Name() string { return r.name }

// ErrorName is the name an error reports; a generated name is not chosen
// yet, so its prefix stands in, as upstream's does.
func (r *Request) ErrorName() string {
	if r.name != "" {
		return r.name
	}
	return r.generate
}

// Namespace returns the request's namespace, nil for cluster-scoped
// requests. It is read once.
func (r *Request) Namespace(ctx context.Context) (*corev1.Namespace, error) {
	if r.Attrs.Namespace == "" || r.getNS == nil {
		return nil, nil
	}
	if !r.namespaceLoaded {
		ns, err := r.getNS(ctx, r.Attrs.Namespace)
		if err != nil {
			return nil, fmt.Errorf("get namespace %s: %w", r.Attrs.Namespace, err)
		}
		r.namespace, r.namespaceLoaded = ns, true
	}
	return r.namespace, nil
}

// NamespaceValue is the value of namespaceObject: the request's namespace
// without managedFields, nil (null) for cluster-scoped requests.
func (r *Request) NamespaceValue(ctx context.Context) (any, error) {
	ns, err := r.Namespace(ctx)
	if err != nil || ns == nil {
		return nil, err
	}
	if r.namespaceValue == nil {
		m, err := ToMap(ns)
		if err != nil {
			return nil, err
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		SetTypeMeta(m, ns.GroupVersionKind())
		r.namespaceValue = m
	}
	return r.namespaceValue, nil
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

// ToMap converts obj to the JSON-like map CEL sees; nil stays nil. An
// unstructured object's own map is returned, not a copy.
func ToMap(obj runtime.Object) (map[string]any, error) {
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

// SetTypeMeta fills apiVersion and kind, which typed objects inside the
// server usually lack, so that object.kind works as clients expect.
func SetTypeMeta(m map[string]any, gvk schema.GroupVersionKind) {
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
