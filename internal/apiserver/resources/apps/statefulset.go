package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// statefulSetUpdateMessage is the error of changing a fixed field.
const statefulSetUpdateMessage = "updates to statefulset spec for fields other than 'replicas', 'ordinals', " +
	"'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

var retentionPolicies = []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)}

// statefulSetStrategy defaults and validates stateful sets.
type statefulSetStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy.
func (statefulSetStrategy) Default(obj runtime.Object) {
	ss, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return
	}
	spec := &ss.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	us := &spec.UpdateStrategy
	if us.Type == "" {
		us.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if us.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if us.RollingUpdate.Partition == nil {
			us.RollingUpdate.Partition = ptr.To[int32](0)
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			us.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To(defaultRevisionHistoryLimit)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	rp := spec.PersistentVolumeClaimRetentionPolicy
	if rp.WhenDeleted == "" {
		rp.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if rp.WhenScaled == "" {
		rp.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	core.DefaultPodTemplateSpec(&spec.Template)
	for i := range spec.VolumeClaimTemplates {
		t := &spec.VolumeClaimTemplates[i]
		if t.APIVersion == "" && t.Kind == "" {
			t.APIVersion, t.Kind = "v1", "PersistentVolumeClaim"
		}
		core.DefaultPersistentVolumeClaimSpec(&t.Spec)
		if t.Status.Phase == "" {
			t.Status.Phase = corev1.ClaimPending
		}
	}
}

// Validate implements registry.Strategy.
func (statefulSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ss, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return wrongType(obj)
	}
	spec := &ss.Spec
	p := field.NewPath("spec")
	errs := validateTemplate(spec.Selector, &spec.Template, p)
	errs = append(errs, nonNegativePtr(spec.Replicas, p.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	if spec.ServiceName != "" {
		for _, msg := range validation.IsDNS1123Label(spec.ServiceName) {
			errs = append(errs, field.Invalid(p.Child("serviceName"), spec.ServiceName, msg))
		}
	}
	errs = append(errs, oneOf(p.Child("podManagementPolicy"), string(spec.PodManagementPolicy),
		string(appsv1.OrderedReadyPodManagement), string(appsv1.ParallelPodManagement))...)
	up := p.Child("updateStrategy")
	us := spec.UpdateStrategy
	errs = append(errs, oneOf(up.Child("type"), string(us.Type),
		string(appsv1.RollingUpdateStatefulSetStrategyType), string(appsv1.OnDeleteStatefulSetStrategyType))...)
	switch ru := us.RollingUpdate; {
	case us.Type == appsv1.OnDeleteStatefulSetStrategyType && ru != nil:
		errs = append(errs, field.Forbidden(up.Child("rollingUpdate"), "only allowed for updateStrategy 'RollingUpdate'"))
	case ru != nil:
		errs = append(errs, nonNegativePtr(ru.Partition, up.Child("rollingUpdate", "partition"))...)
		errs = append(errs, intOrPercent(ru.MaxUnavailable, up.Child("rollingUpdate", "maxUnavailable"), true)...)
		if ru.MaxUnavailable != nil && isZero(ru.MaxUnavailable) {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate", "maxUnavailable"), ru.MaxUnavailable, "must be greater than 0"))
		}
	}
	if rp := spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		pp := p.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, oneOf(pp.Child("whenDeleted"), string(rp.WhenDeleted), retentionPolicies...)...)
		errs = append(errs, oneOf(pp.Child("whenScaled"), string(rp.WhenScaled), retentionPolicies...)...)
	}
	if o := spec.Ordinals; o != nil {
		errs = append(errs, nonNegative(int64(o.Start), p.Child("ordinals", "start"))...)
	}
	names := sets.New[string]()
	for i := range spec.VolumeClaimTemplates {
		t := &spec.VolumeClaimTemplates[i]
		tp := p.Child("volumeClaimTemplates").Index(i)
		if t.Name == "" {
			errs = append(errs, field.Required(tp.Child("metadata", "name"), ""))
		} else if names.Has(t.Name) {
			errs = append(errs, field.Duplicate(tp.Child("metadata", "name"), t.Name))
		}
		names.Insert(t.Name)
		errs = append(errs, core.ValidatePersistentVolumeClaimSpec(&t.Spec, tp.Child("spec"))...)
	}
	return errs
}

// NameValidator implements registry.Strategy: a stateful set's name is a
// DNS label, as it starts the hostnames of its pods.
func (statefulSetStrategy) NameValidator() apivalidation.ValidateNameFunc {
	return apivalidation.NameIsDNSLabel
}

// ValidateUpdate allows changes only to the fields a stateful set can
// roll out; its identity (selector, service, claims) is fixed.
func (s statefulSetStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	ss, ok := obj.(*appsv1.StatefulSet)
	oldSS, ok2 := old.(*appsv1.StatefulSet)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	// Stored objects are protobuf, which drops the claim templates'
	// apiVersion and kind; default the old spec as the new one was, so
	// only real changes count.
	oldSS = oldSS.DeepCopy()
	s.Default(oldSS)
	m := oldSS.Spec.DeepCopy()
	m.Replicas = ss.Spec.Replicas
	m.Ordinals = ss.Spec.Ordinals
	m.Template = ss.Spec.Template
	m.UpdateStrategy = ss.Spec.UpdateStrategy
	m.RevisionHistoryLimit = ss.Spec.RevisionHistoryLimit
	m.PersistentVolumeClaimRetentionPolicy = ss.Spec.PersistentVolumeClaimRetentionPolicy
	m.MinReadySeconds = ss.Spec.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(m, &ss.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), statefulSetUpdateMessage))
	}
	return errs
}
