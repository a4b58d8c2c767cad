package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// daemonSetStrategy defaults and validates daemon sets.
type daemonSetStrategy struct{ registry.DefaultStrategy }

// Default replaces one node's pod at a time, without surge.
func (daemonSetStrategy) Default(obj runtime.Object) {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return
	}
	us := &ds.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			us.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if us.RollingUpdate.MaxSurge == nil {
			us.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr.To(defaultRevisionHistoryLimit)
	}
	core.DefaultPodTemplateSpec(&ds.Spec.Template)
}

// Validate implements registry.Strategy.
func (daemonSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	errs := validateTemplate(ds.Spec.Selector, &ds.Spec.Template, p)
	errs = append(errs, nonNegative(int64(ds.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(ds.Spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	up := p.Child("updateStrategy")
	us := ds.Spec.UpdateStrategy
	errs = append(errs, oneOf(up.Child("type"), string(us.Type),
		string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType))...)
	switch ru := us.RollingUpdate; {
	case us.Type == appsv1.OnDeleteDaemonSetStrategyType && ru != nil:
		errs = append(errs, field.Forbidden(up.Child("rollingUpdate"), "may not be specified when strategy `type` is 'OnDelete'"))
	case ru != nil:
		rp := up.Child("rollingUpdate")
		errs = append(errs, intOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"), true)...)
		errs = append(errs, intOrPercent(ru.MaxSurge, rp.Child("maxSurge"), true)...)
		if isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
	}
	return errs
}

// ValidateUpdate also keeps the selector.
func (s daemonSetStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	ds, ok := obj.(*appsv1.DaemonSet)
	oldDS, ok2 := old.(*appsv1.DaemonSet)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	return append(errs, apivalidation.ValidateImmutableField(ds.Spec.Selector, oldDS.Spec.Selector, field.NewPath("spec", "selector"))...)
}
