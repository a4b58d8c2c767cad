// Package scheduling holds the strategy of scheduling.k8s.io
// PriorityClasses: defaults, the limits on values, the names reserved for
// the system classes, and what an update may not change.
package scheduling

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// Limits of PriorityClass values, as upstream: user classes at most one
// billion; the system classes above it.
const (
	HighestUserDefinablePriority = 1000000000
	systemPrefix                 = "system-"
)

// systemClasses are the only names with the reserved prefix, and their
// values.
var systemClasses = map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}

type priorityClassStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy: PreemptLowerPriority unless set.
func (priorityClassStrategy) Default(obj runtime.Object) {
	if pc, ok := obj.(*schedulingv1.PriorityClass); ok && pc.PreemptionPolicy == nil {
		policy := corev1.PreemptLowerPriority
		pc.PreemptionPolicy = &policy
	}
}

// Validate implements registry.Strategy.
func (priorityClassStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	if !ok {
		return nil
	}
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPrefix) {
		if value, known := systemClasses[pc.Name]; !known {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPrefix+"' prefix are reserved for system use only"))
		} else if pc.Value != value {
			errs = append(errs, field.Forbidden(field.NewPath("value"), "the value of a system priority class may not be changed"))
		}
	} else if pc.Value > HighestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "maximum allowed value of a user defined priority is 1000000000"))
	}
	if p := pc.PreemptionPolicy; p != nil && *p != corev1.PreemptLowerPriority && *p != corev1.PreemptNever {
		errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *p,
			[]string{string(corev1.PreemptLowerPriority), string(corev1.PreemptNever)}))
	}
	return errs
}

// ValidateUpdate implements registry.Strategy: value and preemptionPolicy
// are immutable.
func (s priorityClassStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	oldPC, ok2 := old.(*schedulingv1.PriorityClass)
	if !ok || !ok2 {
		return nil
	}
	errs := s.Validate(ctx, obj)
	if pc.Value != oldPC.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	if !apiequality.Semantic.DeepEqual(pc.PreemptionPolicy, oldPC.PreemptionPolicy) {
		errs = append(errs, field.Invalid(field.NewPath("preemptionPolicy"), pc.PreemptionPolicy, "field is immutable"))
	}
	return errs
}

// Strategies returns the strategies of this group's resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	return map[schema.GroupVersionResource]registry.Strategy{
		schedulingv1.SchemeGroupVersion.WithResource("priorityclasses"): priorityClassStrategy{registry.DefaultStrategy{ClusterScoped: true}},
	}
}
