package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// Deployment defaults from the apps/v1 API reference.
const (
	defaultProgressDeadline = int32(600)
	defaultSurge            = "25%"
)

// deploymentStrategy defaults and validates deployments.
type deploymentStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy.
func (deploymentStrategy) Default(obj runtime.Object) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := spec.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptr.To(intstr.FromString(defaultSurge))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = ptr.To(intstr.FromString(defaultSurge))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To(defaultRevisionHistoryLimit)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr.To(defaultProgressDeadline)
	}
	core.DefaultPodTemplateSpec(&spec.Template)
}

// Validate implements registry.Strategy.
func (deploymentStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return wrongType(obj)
	}
	spec := &d.Spec
	p := field.NewPath("spec")
	errs := validateTemplate(spec.Selector, &spec.Template, p)
	errs = append(errs, nonNegativePtr(spec.Replicas, p.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	if pd := spec.ProgressDeadlineSeconds; pd != nil && *pd <= spec.MinReadySeconds {
		errs = append(errs, field.Invalid(p.Child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
	}
	sp := p.Child("strategy")
	errs = append(errs, oneOf(sp.Child("type"), string(spec.Strategy.Type),
		string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType))...)
	ru := spec.Strategy.RollingUpdate
	switch {
	case spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType && ru != nil:
		errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
	case ru != nil:
		rp := sp.Child("rollingUpdate")
		errs = append(errs, intOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"), true)...)
		errs = append(errs, intOrPercent(ru.MaxSurge, rp.Child("maxSurge"), false)...)
		if isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
	}
	return errs
}

// ValidateUpdate also keeps the selector, which ties the deployment to its
// replica sets.
func (s deploymentStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	d, ok := obj.(*appsv1.Deployment)
	oldD, ok2 := old.(*appsv1.Deployment)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, oldD.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// GetAttrs implements registry.Strategy.
func (deploymentStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	return labels.Set(d.Labels), metaFields(&d.ObjectMeta), nil
}

// validateTemplate validates the selector and pod template of a workload
// whose pods run forever (restartPolicy Always).
func validateTemplate(selector *metav1.LabelSelector, t *corev1.PodTemplateSpec, specPath *field.Path) field.ErrorList {
	tp := specPath.Child("template")
	errs := core.ValidateWorkloadSelector(selector, t, specPath)
	errs = append(errs, core.ValidatePodTemplateSpec(t, tp)...)
	errs = append(errs, core.RestartPolicyIn(t.Spec.RestartPolicy, tp.Child("spec", "restartPolicy"), corev1.RestartPolicyAlways)...)
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds may not be set for pods of this workload"))
	}
	return errs
}
