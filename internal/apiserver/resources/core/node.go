package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// nodeStrategy keeps the status a node registers with: the kubelet creates
// its Node with capacity and addresses already filled.
type nodeStrategy struct{ registry.DefaultStrategy }

func newNodeStrategy() nodeStrategy {
	return nodeStrategy{registry.DefaultStrategy{HasStatus: true, ClusterScoped: true}}
}

// PrepareForCreate keeps status.
func (nodeStrategy) PrepareForCreate(context.Context, runtime.Object) {}

// Default sets allocatable to capacity when the node leaves it unset.
func (nodeStrategy) Default(obj runtime.Object) {
	node, ok := obj.(*corev1.Node)
	if ok && node.Status.Allocatable == nil && node.Status.Capacity != nil {
		node.Status.Allocatable = node.Status.Capacity.DeepCopy()
	}
}

// Validate implements registry.Strategy.
func (nodeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	for i, t := range node.Spec.Taints {
		p := field.NewPath("spec", "taints").Index(i)
		errs = append(errs, qualifiedName(t.Key, p.Child("key"))...)
		errs = append(errs, oneOf(p.Child("effect"), string(t.Effect), taintEffects)...)
	}
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s nodeStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

// GetAttrs implements registry.Strategy.
func (nodeStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&node.ObjectMeta, false)
	fs["spec.unschedulable"] = boolString(node.Spec.Unschedulable)
	return labels.Set(node.Labels), fs, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
