package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

var (
	accessModes = []string{string(corev1.ReadWriteOnce), string(corev1.ReadOnlyMany),
		string(corev1.ReadWriteMany), string(corev1.ReadWriteOncePod)}
	volumeModes = []string{string(corev1.PersistentVolumeBlock), string(corev1.PersistentVolumeFilesystem)}
)

// pvcStrategy defaults and validates claims; a claim's spec is fixed once
// created, except for binding and growing a bound claim.
type pvcStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy.
func (pvcStrategy) Default(obj runtime.Object) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	DefaultPersistentVolumeClaimSpec(&pvc.Spec)
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

// Validate implements registry.Strategy.
func (pvcStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return wrongType(obj)
	}
	return ValidatePersistentVolumeClaimSpec(&pvc.Spec, field.NewPath("spec"))
}

// ValidatePersistentVolumeClaimSpec validates a defaulted claim spec, of a
// claim or of a claim template.
func ValidatePersistentVolumeClaimSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(p.Child("accessModes"), "at least 1 access mode is required"))
	}
	for i, m := range spec.AccessModes {
		errs = append(errs, oneOf(p.Child("accessModes").Index(i), string(m), accessModes)...)
	}
	storage := p.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storage, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(storage, q.String(), "must be greater than zero"))
	}
	if m := spec.VolumeMode; m != nil {
		errs = append(errs, oneOf(p.Child("volumeMode"), string(*m), volumeModes)...)
	}
	if c := spec.StorageClassName; c != nil {
		errs = append(errs, dnsName(*c, p.Child("storageClassName"), validation.IsDNS1123Subdomain)...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	return errs
}

// ValidateUpdate allows binding (setting volumeName once), changing the
// volume attributes class, and growing the storage request of a bound
// claim; the rest of the spec is fixed.
func (s pvcStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	oldPVC, ok2 := old.(*corev1.PersistentVolumeClaim)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	p := field.NewPath("spec")
	m := oldPVC.Spec.DeepCopy()
	if m.VolumeName == "" {
		m.VolumeName = pvc.Spec.VolumeName
	}
	m.VolumeAttributesClassName = pvc.Spec.VolumeAttributesClassName
	storage := p.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	newQ, oldQ := pvc.Spec.Resources.Requests[corev1.ResourceStorage], oldPVC.Spec.Resources.Requests[corev1.ResourceStorage]
	if oldPVC.Status.Phase == corev1.ClaimBound {
		m.Resources.Requests = pvc.Spec.Resources.Requests
		if newQ.Cmp(oldQ) < 0 {
			errs = append(errs, field.Forbidden(storage, "field can not be less than previous value"))
		}
	}
	if !apiequality.Semantic.DeepEqual(m, &pvc.Spec) {
		errs = append(errs, field.Forbidden(p, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	return errs
}
