package tables

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWebhookConfigurationCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"validating", &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: om("v"), Webhooks: make([]admissionregistrationv1.ValidatingWebhook, 2)},
			[]any{"v", int64(2), "5m"}},
	})
	runCellCases(t, []cellCase{
		{"mutating", &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: om("m"), Webhooks: make([]admissionregistrationv1.MutatingWebhook, 1)},
			[]any{"m", int64(1), "5m"}},
	})
}

func TestAdmissionPolicyCells(t *testing.T) {
	kind := &admissionregistrationv1.ParamKind{APIVersion: "example.com/v1", Kind: "Limits"}
	runCellCases(t, []cellCase{
		{"with params", &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: om("limits"), Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			ParamKind: kind, Validations: make([]admissionregistrationv1.Validation, 3),
		}}, []any{"limits", int64(3), "example.com/v1/Limits", "5m"}},
		{"without", &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: om("plain")}, []any{"plain", int64(0), "<unset>", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"mutating", &admissionregistrationv1.MutatingAdmissionPolicy{ObjectMeta: om("label"), Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			Mutations: make([]admissionregistrationv1.Mutation, 1),
		}}, []any{"label", int64(1), "<unset>", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"named param", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: om("b1"), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "limits", ParamRef: &admissionregistrationv1.ParamRef{Namespace: "cfg", Name: "small"},
		}}, []any{"b1", "limits", "cfg/small", "5m"}},
		{"param in binding namespace", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: om("b2"), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "limits", ParamRef: &admissionregistrationv1.ParamRef{Name: "small"},
		}}, []any{"b2", "limits", "small", "5m"}},
		{"selected params", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: om("b3"), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "limits", ParamRef: &admissionregistrationv1.ParamRef{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "a"}}},
		}}, []any{"b3", "limits", "tier=a", "5m"}},
		{"no params", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: om("b4"), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "p"}},
			[]any{"b4", "p", "<unset>", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"mutating binding", &admissionregistrationv1.MutatingAdmissionPolicyBinding{ObjectMeta: om("mb"), Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "label"}},
			[]any{"mb", "label", "<unset>", "5m"}},
	})
}
