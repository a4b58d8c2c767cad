package mutatingpolicy

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/cel-go/common/types/ref"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/admission/policycel"
)

var _ admission.Plugin = (*Plugin)(nil)

// Sources are what the plugin reads. Each function may serve from a
// cache (the watch cache): a policy or binding takes effect a moment
// after it is written, as upstream's informer-fed plugin does. The plugin
// must not mutate what they return.
type Sources struct {
	// Policies lists every MutatingAdmissionPolicy.
	Policies func(ctx context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicy, error)
	// Bindings lists every MutatingAdmissionPolicyBinding, in the order
	// they apply. It is asked first, on every write: with none, nothing
	// else is read.
	Bindings func(ctx context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicyBinding, error)
	// Namespace gets one namespace, for namespaceSelector and
	// namespaceObject.
	Namespace func(ctx context.Context, name string) (*corev1.Namespace, error)
	// Params lists the objects of a policy's paramKind. Nil: policies
	// with a paramKind fail to configure.
	Params policycel.ParamsFunc
	// User returns the requesting user, for request.userInfo. Optional.
	User func(ctx context.Context) (authenticationv1.UserInfo, bool)
}

// Plugin applies MutatingAdmissionPolicies. Use New; it is safe for
// concurrent use.
type Plugin struct {
	src      Sources
	programs policycel.Cache[*program]
}

// New returns a plugin reading from src.
func New(src Sources) *Plugin {
	return &Plugin{src: src}
}

// Admit implements admission.Plugin: it applies every matching binding's
// policy to a.Object, in binding order.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	if a.Object == nil {
		return nil
	}
	bindings, err := p.src.Bindings(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("list mutating admission policy bindings: %w", err))
	}
	if len(bindings) == 0 {
		return nil
	}
	policies, err := p.src.Policies(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("list mutating admission policies: %w", err))
	}
	byName := policycel.Index(&p.programs, policies, func(policy *admissionregistrationv1.MutatingAdmissionPolicy) (string, types.UID) {
		return policy.Name, policy.UID
	})
	r, err := policycel.NewRequest(ctx, a, policycel.RequestSources{Namespace: p.src.Namespace, User: p.src.User})
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var mutated runtime.Object // the last object a mutation produced
	for i := range bindings {
		b := &bindings[i]
		policy := byName[b.Spec.PolicyName]
		if policy == nil {
			continue // upstream skips bindings of missing policies
		}
		out, err := p.apply(ctx, r, policy, b)
		if err != nil {
			return err
		}
		if out != nil {
			mutated = out
		}
	}
	if mutated == nil {
		return nil
	}
	if err := store(a.Object, mutated); err != nil {
		return apierrors.NewInternalError(err)
	}
	return nil
}

// apply applies one binding of policy to r, leaving the mutated object
// in r and returning it decoded, nil when nothing changed. A failure
// under failurePolicy Ignore skips the mutation it occurs in; under Fail
// it refuses the write.
func (p *Plugin) apply(ctx context.Context, r *policycel.Request, policy *admissionregistrationv1.MutatingAdmissionPolicy, b *admissionregistrationv1.MutatingAdmissionPolicyBinding) (runtime.Object, error) {
	ignore := policy.Spec.FailurePolicy != nil && *policy.Spec.FailurePolicy == admissionregistrationv1.Ignore
	fail := func(message string) error {
		if ignore {
			return nil
		}
		return refusal(r, policy.Name, b.Name, message)
	}
	selected, problem := r.Selects(ctx, policy.Spec.MatchConstraints, b.Spec.MatchResources)
	if problem != "" {
		return nil, fail(problem)
	}
	if !selected {
		return nil, nil
	}
	pr, err := p.programs.Get(policy.UID, policy.ResourceVersion, func() (*program, error) { return compilePolicy(policy) })
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	params, err := r.Params(ctx, policy.Spec.ParamKind, b.Spec.ParamRef, p.src.Params)
	if err != nil {
		return nil, fail(fmt.Sprintf("failed to configure binding: %v", err))
	}
	nsObj, err := r.NamespaceValue(ctx)
	if err != nil {
		return nil, fail(fmt.Sprintf("failed to configure binding: %v", err))
	}
	var mutated runtime.Object
	for _, param := range params {
		out, err := pr.run(ctx, r, nsObj, param, fail)
		if err != nil {
			return nil, err
		}
		if out != nil {
			mutated = out
		}
	}
	return mutated, nil
}

// run evaluates match conditions, variables and mutations with one
// param. Each mutation sees the object as the one before it left it.
func (pr *program) run(ctx context.Context, r *policycel.Request, nsObj, param any, fail func(string) error) (runtime.Object, error) {
	vars := r.Activation(nsObj, param)
	ok, err := policycel.Matched(ctx, pr.matchConditions, vars)
	if err != nil {
		return nil, fail(err.Error())
	}
	if !ok {
		return nil, nil
	}
	policycel.EvalVariables(ctx, pr.variables, vars)
	var mutated runtime.Object
	for _, m := range pr.mutations {
		obj, err := mutate(ctx, r, m, vars)
		if err != nil {
			if err := fail(err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		if obj != nil {
			mutated = obj
		}
	}
	return mutated, nil
}

// mutate evaluates one mutation and, when it changes the object, makes
// the result the request's object (and vars' `object`). The result must
// decode into the object's type.
func mutate(ctx context.Context, r *policycel.Request, m mutation, vars map[string]any) (runtime.Object, error) {
	v, err := m.expr.Eval(ctx, vars)
	if err != nil {
		return nil, err
	}
	var patch func(map[string]any, ref.Val) (map[string]any, error)
	switch m.patchType {
	case admissionregistrationv1.PatchTypeApplyConfiguration:
		patch = applyConfiguration
	case admissionregistrationv1.PatchTypeJSONPatch:
		patch = jsonPatch
	default:
		return nil, fmt.Errorf("unsupported patchType %q", m.patchType)
	}
	out, err := patch(r.Object, v)
	if err != nil {
		return nil, err
	}
	if equality.Semantic.DeepEqual(out, r.Object) {
		return nil, nil
	}
	obj, err := decode(r.Attrs.Object, out)
	if err != nil {
		return nil, err
	}
	r.SetObject(out)
	vars[policycel.VarObject] = out
	return obj, nil
}

// refusal is the error of a failed mutation under failurePolicy Fail:
// the Invalid status upstream returns.
func refusal(r *policycel.Request, policy, binding, message string) error {
	text := fmt.Sprintf("policy '%s' with binding '%s' denied request: %s", policy, binding, message)
	e := &apierrors.StatusError{}
	if !errors.As(apierrors.NewForbidden(r.Resource.GroupResource(), r.ErrorName(), errors.New(text)), &e) {
		return apierrors.NewInternalError(errors.New(text))
	}
	e.ErrStatus.Reason = metav1.StatusReasonInvalid
	e.ErrStatus.Code = 422
	e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{Message: text})
	return e
}
