package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// namespaceStrategy gives namespaces the kubernetes finalizer, which the
// namespace controller removes once the namespace is empty, and the
// kubernetes.io/metadata.name label.
type namespaceStrategy struct{ registry.DefaultStrategy }

var (
	_ registry.Strategy       = namespaceStrategy{}
	_ registry.DeletionHolder = namespaceStrategy{}
)

func newNamespaceStrategy() namespaceStrategy {
	return namespaceStrategy{registry.DefaultStrategy{HasStatus: true, ClusterScoped: true}}
}

// PrepareForCreate adds the kubernetes finalizer to spec.finalizers.
func (s namespaceStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	s.DefaultStrategy.PrepareForCreate(ctx, obj)
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return
	}
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
}

// PrepareForUpdate keeps spec.finalizers: only the finalize subresource
// changes them.
func (s namespaceStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.DefaultStrategy.PrepareForUpdate(ctx, obj, old)
	ns, ok := obj.(*corev1.Namespace)
	oldNS, ok2 := old.(*corev1.Namespace)
	if ok && ok2 {
		ns.Spec.Finalizers = oldNS.Spec.Finalizers
	}
}

// Default implements registry.Strategy.
func (namespaceStrategy) Default(obj runtime.Object) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
}

// Validate implements registry.Strategy.
func (namespaceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s namespaceStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

// GetAttrs implements registry.Strategy.
func (namespaceStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&ns.ObjectMeta, false)
	fs["status.phase"] = string(ns.Status.Phase)
	return labels.Set(ns.Labels), fs, nil
}

// NameValidator implements registry.Strategy: namespace names are DNS
// labels, as they become parts of DNS names.
func (namespaceStrategy) NameValidator() apivalidation.ValidateNameFunc {
	return apivalidation.NameIsDNSLabel
}

// HoldsDeletion implements registry.DeletionHolder: a deleted namespace
// stays, Terminating, until the namespace controller has emptied it and
// cleared spec.finalizers through the finalize subresource.
func (namespaceStrategy) HoldsDeletion(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// MarkDeleting implements registry.DeletionHolder.
func (namespaceStrategy) MarkDeleting(obj runtime.Object) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}
