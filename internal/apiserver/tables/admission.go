package tables

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// admissionPrinters are the printers of admissionregistration.k8s.io.
func admissionPrinters() []*printer {
	gv := admissionregistrationv1.SchemeGroupVersion
	webhookColumns := columns(
		nameColumn(),
		intCol("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration"),
		ageColumn(),
	)
	return []*printer{
		typed(gv.WithKind("ValidatingWebhookConfiguration"), webhookColumns,
			func(c *admissionregistrationv1.ValidatingWebhookConfiguration, now time.Time) []any {
				return []any{c.Name, int64(len(c.Webhooks)), ageSince(c.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("MutatingWebhookConfiguration"), webhookColumns,
			func(c *admissionregistrationv1.MutatingWebhookConfiguration, now time.Time) []any {
				return []any{c.Name, int64(len(c.Webhooks)), ageSince(c.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("ValidatingAdmissionPolicy"), policyColumns("Validations", "Validations indicates the number of validation rules defined in this configuration"),
			func(p *admissionregistrationv1.ValidatingAdmissionPolicy, now time.Time) []any {
				return []any{p.Name, int64(len(p.Spec.Validations)), paramKind(p.Spec.ParamKind), ageSince(p.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("MutatingAdmissionPolicy"), policyColumns("Mutations", "Mutations indicates the number of mutations rules defined in this configuration"),
			func(p *admissionregistrationv1.MutatingAdmissionPolicy, now time.Time) []any {
				return []any{p.Name, int64(len(p.Spec.Mutations)), paramKind(p.Spec.ParamKind), ageSince(p.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("ValidatingAdmissionPolicyBinding"), policyBindingColumns,
			func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding, now time.Time) []any {
				return []any{b.Name, b.Spec.PolicyName, paramRef(b.Spec.ParamRef), ageSince(b.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("MutatingAdmissionPolicyBinding"), policyBindingColumns,
			func(b *admissionregistrationv1.MutatingAdmissionPolicyBinding, now time.Time) []any {
				return []any{b.Name, b.Spec.PolicyName, paramRef(b.Spec.ParamRef), ageSince(b.CreationTimestamp, now)}
			}),
	}
}

// policyColumns are the columns of an admission policy, whose rules are
// counted in the column name.
func policyColumns(name, description string) []column {
	return columns(
		nameColumn(),
		intCol(name, description),
		strCol("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"),
		ageColumn(),
	)
}

var policyBindingColumns = columns(
	nameColumn(),
	strCol("PolicyName", "PolicyName indicates the policy definition which the policy binding binded to"),
	strCol("ParamRef", "ParamRef indicates the param resource which sets the configuration param"),
	ageColumn(),
)

// paramKind renders a policy's parameter kind as apiVersion/kind.
func paramKind(k *admissionregistrationv1.ParamKind) string {
	if k == nil {
		return "<unset>"
	}
	return k.APIVersion + "/" + k.Kind
}

// paramRef renders a binding's parameter reference: namespace/name, or
// the selector when it selects parameters by label.
func paramRef(r *admissionregistrationv1.ParamRef) string {
	switch {
	case r == nil:
		return "<unset>"
	case r.Name != "" && r.Namespace != "":
		return r.Namespace + "/" + r.Name
	case r.Name != "":
		return r.Name
	case r.Selector != nil:
		return metav1.FormatLabelSelector(r.Selector)
	default:
		return "<unset>"
	}
}
