// Package nodename implements the NodeName filter: a pod that names a node
// in spec.nodeName fits that node only.
package nodename

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "NodeName"

// ErrReason is what kubectl shows for nodes other than the requested one.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName rejects every node but the one a pod asks for by name.
type NodeName struct{}

var (
	_ framework.FilterPlugin      = (*NodeName)(nil)
	_ framework.EnqueueExtensions = (*NodeName)(nil)
	_ framework.PluginFactory     = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &NodeName{}, nil
}

// Name returns Name.
func (*NodeName) Name() string { return Name }

// Filter rejects nodeInfo unless the pod names no node or names this one.
// Waiting cannot change a node's name, hence UnschedulableAndUnresolvable.
func (*NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	if !Fits(pod, nodeInfo) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}

// Fits reports whether pod may run on nodeInfo as far as spec.nodeName is
// concerned.
func Fits(pod *corev1.Pod, nodeInfo *framework.NodeInfo) bool {
	return pod.Spec.NodeName == "" || pod.Spec.NodeName == nodeInfo.NodeName()
}

// EventsToRegister returns the events that can make a rejected pod fit:
// only a new node (the named one appearing), since names never change.
func (*NodeName) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add}}
}
