// Package tainttoleration implements the TaintToleration plugin: a node's
// NoSchedule and NoExecute taints keep off pods that do not tolerate them,
// and its PreferNoSchedule taints lower its score for such pods.
package tainttoleration

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "TaintToleration"

// comparisonOperators lets tolerations use Lt and Gt: the API server only
// admits such tolerations when the feature is on, so honoring them here
// is safe either way.
const comparisonOperators = true

// ErrReasonFormat formats the reason kubectl shows for a node with a
// taint the pod does not tolerate, from the taint's key and value.
const ErrReasonFormat = "node(s) had untolerated taint {%s: %s}"

// ErrReason is the reason for taint, for example
// "node(s) had untolerated taint {dedicated: gpu}".
func ErrReason(taint *corev1.Taint) string {
	return fmt.Sprintf(ErrReasonFormat, taint.Key, taint.Value)
}

// TaintToleration filters and scores nodes by their taints.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin      = (*TaintToleration)(nil)
	_ framework.EnqueueExtensions = (*TaintToleration)(nil)
	_ framework.PreScorePlugin    = (*TaintToleration)(nil)
	_ framework.ScorePlugin       = (*TaintToleration)(nil)
	_ framework.ScoreExtensions   = (*TaintToleration)(nil)
	_ framework.PluginFactory     = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &TaintToleration{}, nil
}

// Name returns Name.
func (*TaintToleration) Name() string { return Name }

// Filter rejects nodeInfo if it has a NoSchedule or NoExecute taint the
// pod does not tolerate, naming the first such taint. Preemption cannot
// remove a taint, hence UnschedulableAndUnresolvable.
func (*TaintToleration) Filter(ctx context.Context, _ *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	if len(nodeInfo.Taints) == 0 {
		return nil
	}
	logger := klog.FromContext(ctx)
	for i := range nodeInfo.Taints {
		taint := &nodeInfo.Taints[i]
		if taint.Effect != corev1.TaintEffectNoSchedule && taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !tolerates(logger, pod.Spec.Tolerations, taint) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason(taint))
		}
	}
	return nil
}

// ErrReasonNotMatch is how upstream's kubelet words the rejection of a pod
// bound to a node whose NoExecute taints it does not tolerate.
const ErrReasonNotMatch = "node(s) had taints that the pod didn't tolerate"

// ToleratesNoExecute reports whether pod tolerates every NoExecute taint of
// node: what a kubelet checks before running a pod bound to it, since a
// pod bound without the scheduler was never filtered.
func ToleratesNoExecute(logger klog.Logger, pod *corev1.Pod, node *corev1.Node) bool {
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect == corev1.TaintEffectNoExecute && !tolerates(logger, pod.Spec.Tolerations, taint) {
			return false
		}
	}
	return true
}

func tolerates(logger klog.Logger, tolerations []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(logger, taint, comparisonOperators) {
			return true
		}
	}
	return false
}

// EventsToRegister returns the events that can make a rejected pod fit: a
// new node, or a change to a node's taints.
func (*TaintToleration) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}}
}
