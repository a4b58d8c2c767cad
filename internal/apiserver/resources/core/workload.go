package core

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateWorkloadSelector validates the selector of a workload that owns
// pods (deployments, replica sets, stateful sets, daemon sets, jobs): it is
// required, not empty, valid, and selects the pods of template. specPath is
// the path of the workload's spec, holding selector and template.
func ValidateWorkloadSelector(selector *metav1.LabelSelector, template *corev1.PodTemplateSpec, specPath *field.Path) field.ErrorList {
	sp := specPath.Child("selector")
	if selector == nil {
		return field.ErrorList{field.Required(sp, "")}
	}
	errs := metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, sp)
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(sp, selector, "empty selector is invalid for this workload"))
	}
	if len(errs) > 0 {
		return errs
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return append(errs, field.Invalid(sp, selector, err.Error()))
	}
	if !sel.Matches(labels.Set(template.Labels)) {
		errs = append(errs, field.Invalid(specPath.Child("template", "metadata", "labels"), template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// RestartPolicyIn validates the restart policy of a workload's pod
// template, which its controller restricts (Always for long-running
// workloads, OnFailure or Never for jobs).
func RestartPolicyIn(policy corev1.RestartPolicy, p *field.Path, allowed ...corev1.RestartPolicy) field.ErrorList {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if policy == a {
			return nil
		}
		names[i] = string(a)
	}
	return field.ErrorList{field.NotSupported(p, policy, names)}
}
