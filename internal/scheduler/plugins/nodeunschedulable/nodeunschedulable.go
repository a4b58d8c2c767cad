// Package nodeunschedulable implements the NodeUnschedulable filter: nodes
// cordoned with spec.unschedulable take only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.
package nodeunschedulable

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "NodeUnschedulable"

// Reasons kubectl shows for nodes this plugin rejects.
const (
	ErrReasonUnschedulable = "node(s) were unschedulable"
	// ErrReasonUnknownCondition is for a NodeInfo whose Node is not known
	// yet, as upstream reports it.
	ErrReasonUnknownCondition = "node(s) had unknown conditions"
)

// comparisonOperators lets tolerations use Lt and Gt: the API server only
// admits such tolerations when the feature is on, so honoring them here
// is safe either way.
const comparisonOperators = true

// NodeUnschedulable rejects cordoned nodes for pods that do not tolerate
// the cordon.
type NodeUnschedulable struct {
	// taint is the taint a cordon stands for; kept here so Filter can
	// pass a pointer without allocating.
	taint corev1.Taint
}

var (
	_ framework.FilterPlugin      = (*NodeUnschedulable)(nil)
	_ framework.EnqueueExtensions = (*NodeUnschedulable)(nil)
	_ framework.PluginFactory     = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &NodeUnschedulable{
		taint: corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule},
	}, nil
}

// Name returns Name.
func (*NodeUnschedulable) Name() string { return Name }

// Filter rejects a cordoned node unless the pod tolerates the cordon.
// Preempting pods does not uncordon a node, hence
// UnschedulableAndUnresolvable.
func (pl *NodeUnschedulable) Filter(ctx context.Context, _ *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnknownCondition)
	}
	if !nodeInfo.Unschedulable {
		return nil
	}
	for i := range pod.Spec.Tolerations {
		if pod.Spec.Tolerations[i].ToleratesTaint(klog.FromContext(ctx), &pl.taint, comparisonOperators) {
			return nil
		}
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}

// EventsToRegister returns the events that can make a rejected pod fit: a
// new node, or a node update that may uncordon it (the scheduler's event
// mapping files spec.unschedulable changes under taint updates, as
// upstream does, because a cordon is a taint in effect).
func (*NodeUnschedulable) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}}
}
