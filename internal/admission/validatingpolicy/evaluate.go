package validatingpolicy

import (
	"context"
	"fmt"
	"strings"

	celtypes "github.com/google/cel-go/common/types"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/tugcluster/tug/internal/admission/policycel"
)

// maxMessageLength bounds a message computed by a messageExpression;
// longer ones fall back, as upstream's do.
const maxMessageLength = 5 * 1024

// evaluate applies one binding of policy to r. It returns the first
// failure, nil when the binding does not apply or everything holds, and
// an error only when it cannot decide under any failure policy.
func (p *Plugin) evaluate(ctx context.Context, r *policycel.Request, policy *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) (*denial, error) {
	ignore := policy.Spec.FailurePolicy != nil && *policy.Spec.FailurePolicy == admissionregistrationv1.Ignore
	// fail turns an error into a denial unless the policy ignores errors.
	fail := func(message string) *denial {
		if ignore {
			return nil
		}
		return &denial{policy: policy.Name, binding: b.Name, message: message}
	}
	selected, problem := r.Selects(ctx, policy.Spec.MatchConstraints, b.Spec.MatchResources)
	if problem != "" {
		return fail(problem), nil
	}
	if !selected {
		return nil, nil
	}
	pr, err := p.programs.Get(policy.UID, policy.ResourceVersion, func() (*program, error) { return compilePolicy(policy) })
	if err != nil {
		return nil, err
	}
	params, err := r.Params(ctx, policy.Spec.ParamKind, b.Spec.ParamRef, p.src.Params)
	if err != nil {
		return fail(fmt.Sprintf("failed to configure binding: %v", err)), nil
	}
	nsObj, err := r.NamespaceValue(ctx)
	if err != nil {
		return fail(fmt.Sprintf("failed to configure binding: %v", err)), nil
	}
	for _, param := range params {
		if d := pr.run(ctx, r.Activation(nsObj, param), fail); d != nil {
			d.policy, d.binding = policy.Name, b.Name
			return d, nil
		}
	}
	return nil, nil
}

// run evaluates match conditions, variables and validations with one
// param (vars complete but for `variables`).
func (pr *program) run(ctx context.Context, vars map[string]any, fail func(string) *denial) *denial {
	ok, err := policycel.Matched(ctx, pr.matchConditions, vars)
	if err != nil {
		return fail(err.Error())
	}
	if !ok {
		return nil
	}
	policycel.EvalVariables(ctx, pr.variables, vars)
	for _, v := range pr.validations {
		ok, err := v.expr.EvalBool(ctx, vars)
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
	if v.messageExpr.Source != "" {
		if val, err := v.messageExpr.Eval(ctx, vars); err == nil {
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

// trimmed drops whitespace, as upstream does for messages.
func trimmed(s string) string { return strings.TrimSpace(s) }
