package validatingpolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/admission/policycel"
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
	Params policycel.ParamsFunc
	// User returns the requesting user, for request.userInfo. Optional.
	User func(ctx context.Context) (authenticationv1.UserInfo, bool)
}

// Plugin enforces ValidatingAdmissionPolicies. Use New; it is safe for
// concurrent use.
type Plugin struct {
	src      Sources
	programs policycel.Cache[*program]
}

// New returns a plugin reading from src.
func New(src Sources) *Plugin {
	return &Plugin{src: src}
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
	byName := policycel.Index(&p.programs, policies, func(policy *admissionregistrationv1.ValidatingAdmissionPolicy) (string, types.UID) {
		return policy.Name, policy.UID
	})
	r, err := policycel.NewRequest(ctx, a, policycel.RequestSources{Namespace: p.src.Namespace, User: p.src.User})
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
		if err := act(ctx, a, r, d, b.Spec.ValidationActions); err != nil {
			return err
		}
	}
	return nil
}

// act carries out a binding's validation actions for a denial: Deny
// refuses, Warn tells the client (a Warning header, as upstream words it),
// Audit is logged (tug has no audit log).
func act(ctx context.Context, a *admission.Attributes, r *policycel.Request, d *denial, actions []admissionregistrationv1.ValidationAction) error {
	for _, action := range actions {
		switch action {
		case admissionregistrationv1.Deny:
			return d.err(r)
		case admissionregistrationv1.Warn:
			a.Warn(fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", d.policy, d.binding, d.message))
		case admissionregistrationv1.Audit:
			klog.FromContext(ctx).V(2).Info("Validation failed for ValidatingAdmissionPolicy",
				"policy", d.policy, "binding", d.binding, "action", action, "message", d.message)
		}
	}
	return nil
}

// err is d as the API error upstream returns: a Forbidden status whose
// reason and code the validation chose.
func (d *denial) err(r *policycel.Request) error {
	message := fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", d.policy, d.binding, d.message)
	e := &apierrors.StatusError{}
	if !errors.As(apierrors.NewForbidden(r.Resource.GroupResource(), r.ErrorName(), errors.New(message)), &e) {
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
