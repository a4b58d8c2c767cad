package apps

import (
	"context"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// replicaSetStrategy defaults and validates replica sets.
type replicaSetStrategy struct{ registry.DefaultStrategy }

// Default sets one replica, the labels from the template when unset, and
// the pod template's defaults.
func (replicaSetStrategy) Default(obj runtime.Object) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	if len(rs.Labels) == 0 && len(rs.Spec.Template.Labels) > 0 {
		rs.Labels = maps.Clone(rs.Spec.Template.Labels)
	}
	core.DefaultPodTemplateSpec(&rs.Spec.Template)
}

// Validate implements registry.Strategy.
func (replicaSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	errs := validateTemplate(rs.Spec.Selector, &rs.Spec.Template, p)
	errs = append(errs, nonNegativePtr(rs.Spec.Replicas, p.Child("replicas"))...)
	return append(errs, nonNegative(int64(rs.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
}

// ValidateUpdate also keeps the selector.
func (s replicaSetStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	rs, ok := obj.(*appsv1.ReplicaSet)
	oldRS, ok2 := old.(*appsv1.ReplicaSet)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	return append(errs, apivalidation.ValidateImmutableField(rs.Spec.Selector, oldRS.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// GetAttrs implements registry.Strategy: replica sets can be selected by
// status.replicas.
func (replicaSetStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&rs.ObjectMeta)
	fs["status.replicas"] = strconv.Itoa(int(rs.Status.Replicas))
	return labels.Set(rs.Labels), fs, nil
}

// controllerRevisionStrategy keeps a revision's data, which records a
// past state of its owner.
type controllerRevisionStrategy struct{ registry.DefaultStrategy }

// Validate implements registry.Strategy.
func (controllerRevisionStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return wrongType(obj)
	}
	return nonNegative(cr.Revision, field.NewPath("revision"))
}

// ValidateUpdate implements registry.Strategy.
func (s controllerRevisionStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	cr, ok := obj.(*appsv1.ControllerRevision)
	oldCR, ok2 := old.(*appsv1.ControllerRevision)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	if !apiequality.Semantic.DeepEqual(cr.Data, oldCR.Data) {
		errs = append(errs, field.Invalid(field.NewPath("data"), "<data>", apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}
