package policycel

import (
	"context"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// ParamsFunc lists the objects of a policy's paramKind in namespace (all
// namespaces when empty) and says whether the kind is namespaced. It
// returns a NotFound error for a kind it does not serve.
type ParamsFunc func(ctx context.Context, kind admissionregistrationv1.ParamKind, namespace string) (objs []runtime.Object, namespaced bool, err error)

// ErrNoParams is the configuration error of a binding whose paramRef
// finds nothing and says Deny.
var ErrNoParams = errors.New("no params found for policy binding with `Deny` parameterNotFoundAction")

// Params returns the values of `params` to evaluate a policy with: one
// null when the policy (kind) or binding (ref) names none, else each
// object the binding's paramRef selects; none when nothing is selected
// and the binding allows that. list nil: a paramKind fails to configure.
func (r *Request) Params(ctx context.Context, kind *admissionregistrationv1.ParamKind, ref *admissionregistrationv1.ParamRef, list ParamsFunc) ([]any, error) {
	if kind == nil || ref == nil {
		return []any{nil}, nil
	}
	if list == nil {
		return nil, fmt.Errorf("paramKind %s %s is not supported", kind.APIVersion, kind.Kind)
	}
	if ref.Name != "" && ref.Selector != nil {
		return nil, errors.New("paramRef.name and paramRef.selector are mutually exclusive")
	}
	if ref.Name == "" && ref.Selector == nil {
		return nil, errors.New("one of name or selector must be provided")
	}
	namespace := ref.Namespace
	if namespace == "" && !r.IsNamespace() {
		namespace = r.Attrs.Namespace
	}
	objs, namespaced, err := list(ctx, *kind, namespace)
	if err != nil {
		return nil, fmt.Errorf("paramKind %s %s: %w", kind.APIVersion, kind.Kind, err)
	}
	switch {
	case namespaced && namespace == "":
		return nil, errors.New("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
	case !namespaced && ref.Namespace != "":
		return nil, errors.New("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
	}
	sel, err := Selector(ref.Selector)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, obj := range objs {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		if ref.Name != "" && m.GetName() != ref.Name || ref.Name == "" && !sel.Matches(labels.Set(m.GetLabels())) {
			continue
		}
		v, err := paramValue(obj, kind)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		if ref.ParameterNotFoundAction != nil && *ref.ParameterNotFoundAction == admissionregistrationv1.AllowAction {
			return nil, nil
		}
		return nil, ErrNoParams // Deny is the default
	}
	return out, nil
}

func paramValue(obj runtime.Object, kind *admissionregistrationv1.ParamKind) (any, error) {
	m, err := ToMap(obj)
	if err != nil {
		return nil, fmt.Errorf("convert param: %w", err)
	}
	if _, ok := m["kind"]; !ok {
		m["kind"] = kind.Kind
		m["apiVersion"] = kind.APIVersion
	}
	return m, nil
}
