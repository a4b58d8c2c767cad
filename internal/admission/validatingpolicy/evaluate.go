package validatingpolicy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	celtypes "github.com/google/cel-go/common/types"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// maxMessageLength bounds a message computed by a messageExpression;
// longer ones fall back, as upstream's do.
const maxMessageLength = 5 * 1024

// errNoParams is the configuration error of a binding whose paramRef
// finds nothing and says Deny.
var errNoParams = errors.New("no params found for policy binding with `Deny` parameterNotFoundAction")

// evaluate applies one binding of policy to r. It returns the first
// failure, nil when the binding does not apply or everything holds, and
// an error only when it cannot decide under any failure policy.
func (p *Plugin) evaluate(ctx context.Context, r *request, policy *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) (*denial, error) {
	ignore := policy.Spec.FailurePolicy != nil && *policy.Spec.FailurePolicy == admissionregistrationv1.Ignore
	// fail turns an error into a denial unless the policy ignores errors.
	fail := func(message string) *denial {
		if ignore {
			return nil
		}
		return &denial{policy: policy.Name, binding: b.Name, message: message}
	}
	if policy.Spec.MatchConstraints == nil {
		return nil, nil // invalid: a policy without constraints matches nothing
	}
	ok, err := p.matches(ctx, r, policy.Spec.MatchConstraints)
	if err != nil {
		return fail(fmt.Sprintf("failed to configure policy: %v", err)), nil
	}
	if !ok {
		return nil, nil
	}
	if b.Spec.MatchResources != nil {
		ok, err := p.matches(ctx, r, b.Spec.MatchResources)
		if err != nil {
			return fail(fmt.Sprintf("failed to configure binding: %v", err)), nil
		}
		if !ok {
			return nil, nil
		}
	}
	pr, err := p.programs.get(policy)
	if err != nil {
		return nil, err
	}
	params, err := p.params(ctx, r, policy, b)
	if err != nil {
		return fail(fmt.Sprintf("failed to configure binding: %v", err)), nil
	}
	ns, err := r.namespaceObj(ctx, p.src.Namespace)
	if err != nil {
		return fail(fmt.Sprintf("failed to configure binding: %v", err)), nil
	}
	var nsObj any
	if ns != nil {
		m, err := toMap(ns)
		if err != nil {
			return nil, err
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		setTypeMeta(m, ns.GroupVersionKind())
		nsObj = m
	}
	for _, param := range params {
		vars := maps.Clone(r.vars)
		vars[varNamespace] = nsObj
		vars[varParams] = param
		if d := pr.run(ctx, vars, fail); d != nil {
			d.policy, d.binding = policy.Name, b.Name
			return d, nil
		}
	}
	return nil, nil
}

// run evaluates match conditions, variables and validations with one
// param (vars complete but for `variables`).
func (pr *program) run(ctx context.Context, vars map[string]any, fail func(string) *denial) *denial {
	for _, mc := range pr.matchConditions {
		ok, err := mc.expr.evalBool(ctx, vars)
		if err != nil {
			return fail(fmt.Sprintf("failed to evaluate match condition %q: %v", mc.name, err))
		}
		if !ok {
			return nil
		}
	}
	pr.evalVariables(ctx, vars)
	for _, v := range pr.validations {
		ok, err := v.expr.evalBool(ctx, vars)
		if err != nil {
			if d := fail(err.Error()); d != nil {
				return d
			}
			continue
		}
		if ok {
			continue
		}
		reason := v.spec.Reason
		d := &denial{message: v.message(ctx, vars)}
		if reason != nil {
			d.reason = *reason
		}
		return d
	}
	return nil
}

// message is the text of a failed validation: its messageExpression when
// that yields a usable string, else its message, else the expression.
func (v *validation) message(ctx context.Context, vars map[string]any) string {
	if v.messageExpr.source != "" {
		if val, err := v.messageExpr.eval(ctx, vars); err == nil {
			if s, ok := val.(celtypes.String); ok {
				m := trimmed(string(s))
				if m != "" && len(m) <= maxMessageLength && !strings.Contains(m, "\n") {
					return m
				}
			}
		}
	}
	if m := trimmed(v.spec.Message); m != "" {
		return m
	}
	return "failed expression: " + trimmed(v.spec.Expression)
}

// params returns the values of `params` to evaluate the policy with: one
// null when the policy or binding names none, else each object the
// binding's paramRef selects.
func (p *Plugin) params(ctx context.Context, r *request, policy *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) ([]any, error) {
	kind, ref := policy.Spec.ParamKind, b.Spec.ParamRef
	if kind == nil || ref == nil {
		return []any{nil}, nil
	}
	if p.src.Params == nil {
		return nil, fmt.Errorf("paramKind %s %s is not supported", kind.APIVersion, kind.Kind)
	}
	if ref.Name != "" && ref.Selector != nil {
		return nil, errors.New("paramRef.name and paramRef.selector are mutually exclusive")
	}
	if ref.Name == "" && ref.Selector == nil {
		return nil, errors.New("one of name or selector must be provided")
	}
	namespace := ref.Namespace
	if namespace == "" && !r.isNamespace() {
		namespace = r.attrs.Namespace
	}
	objs, namespaced, err := p.src.Params(ctx, *kind, namespace)
	if err != nil {
		return nil, fmt.Errorf("paramKind %s %s: %w", kind.APIVersion, kind.Kind, err)
	}
	switch {
	case namespaced && namespace == "":
		return nil, errors.New("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
	case !namespaced && ref.Namespace != "":
		return nil, errors.New("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
	}
	sel, err := selector(ref.Selector)
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
		return nil, errNoParams // Deny is the default
	}
	return out, nil
}

func paramValue(obj runtime.Object, kind *admissionregistrationv1.ParamKind) (any, error) {
	m, err := toMap(obj)
	if err != nil {
		return nil, fmt.Errorf("convert param: %w", err)
	}
	if _, ok := m["kind"]; !ok {
		m["kind"] = kind.Kind
		m["apiVersion"] = kind.APIVersion
	}
	return m, nil
}
