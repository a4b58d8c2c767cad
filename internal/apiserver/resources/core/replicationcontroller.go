package core

import (
	"context"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// rcStrategy defaults and validates replication controllers.
type rcStrategy struct{ registry.DefaultStrategy }

// Default sets one replica and takes the selector and the labels from the
// template when they are unset.
func (rcStrategy) Default(obj runtime.Object) {
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr.To[int32](1)
	}
	if t := rc.Spec.Template; t != nil {
		if len(rc.Spec.Selector) == 0 && len(t.Labels) > 0 {
			rc.Spec.Selector = maps.Clone(t.Labels)
		}
		if len(rc.Labels) == 0 && len(t.Labels) > 0 {
			rc.Labels = maps.Clone(t.Labels)
		}
		DefaultPodTemplateSpec(t)
	}
}

// Validate implements registry.Strategy.
func (rcStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	var errs field.ErrorList
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	}
	errs = append(errs, metav1validation.ValidateLabels(rc.Spec.Selector, p.Child("selector"))...)
	errs = append(errs, nonNegative(int64(ptr.Deref(rc.Spec.Replicas, 0)), p.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(rc.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if rc.Spec.Template == nil {
		return append(errs, field.Required(p.Child("template"), ""))
	}
	tp := p.Child("template")
	if len(rc.Spec.Selector) > 0 && !labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(rc.Spec.Template.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), rc.Spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, ValidatePodTemplateSpec(rc.Spec.Template, tp)...)
	return append(errs, RestartPolicyIn(rc.Spec.Template.Spec.RestartPolicy, tp.Child("spec", "restartPolicy"), corev1.RestartPolicyAlways)...)
}

// ValidateUpdate implements registry.Strategy.
func (s rcStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

// GetAttrs implements registry.Strategy.
func (rcStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&rc.ObjectMeta, true)
	fs["status.replicas"] = strconv.Itoa(int(rc.Status.Replicas))
	return labels.Set(rc.Labels), fs, nil
}

// podTemplateStrategy defaults and validates pod templates.
type podTemplateStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy.
func (podTemplateStrategy) Default(obj runtime.Object) {
	if t, ok := obj.(*corev1.PodTemplate); ok {
		DefaultPodTemplateSpec(&t.Template)
	}
}

// Validate implements registry.Strategy.
func (podTemplateStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	t, ok := obj.(*corev1.PodTemplate)
	if !ok {
		return wrongType(obj)
	}
	return ValidatePodTemplateSpec(&t.Template, field.NewPath("template"))
}

// ValidateUpdate implements registry.Strategy.
func (s podTemplateStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
