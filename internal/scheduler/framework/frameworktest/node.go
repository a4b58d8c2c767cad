package frameworktest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// NodeBuilder builds a test node fluently:
// MakeNode().Name("n1").Allocatable("cpu", "4").NodeInfo(pods...).
type NodeBuilder struct{ node *corev1.Node }

// MakeNode returns a builder for an empty node.
func MakeNode() *NodeBuilder { return &NodeBuilder{node: &corev1.Node{}} }

// Obj returns the node built.
func (b *NodeBuilder) Obj() *corev1.Node { return b.node }

// NodeInfo returns a NodeInfo for the node built, holding pods.
func (b *NodeBuilder) NodeInfo(pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(b.node)
	return ni
}

// Name sets the name.
func (b *NodeBuilder) Name(name string) *NodeBuilder {
	b.node.Name = name
	return b
}

// Labels sets the labels to l (not copied).
func (b *NodeBuilder) Labels(l map[string]string) *NodeBuilder {
	b.node.Labels = l
	return b
}

// Allocatable sets status.allocatable of resource name to quantity (as
// kubectl writes it).
func (b *NodeBuilder) Allocatable(name corev1.ResourceName, quantity string) *NodeBuilder {
	if b.node.Status.Allocatable == nil {
		b.node.Status.Allocatable = corev1.ResourceList{}
	}
	b.node.Status.Allocatable[name] = resource.MustParse(quantity)
	return b
}

// Taints sets spec.taints.
func (b *NodeBuilder) Taints(taints ...corev1.Taint) *NodeBuilder {
	b.node.Spec.Taints = taints
	return b
}
