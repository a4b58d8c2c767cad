// Package nodeports implements the NodePorts filter: a pod asking for host
// ports fits only nodes where no other pod holds them.
package nodeports

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "NodePorts"

// ErrReason is what kubectl shows for a node where a requested host port
// is taken.
const ErrReason = "node(s) didn't have free ports for the requested pod ports"

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// preFilterState holds the host ports the pod asks for.
type preFilterState struct {
	ports []framework.HostPort
}

// Clone returns the state itself: it never changes once written, and the
// plugin has no pre-filter extensions (Filter reads the node's ports,
// which preemption's what-if NodeInfo already reflects).
func (s *preFilterState) Clone() framework.StateData { return s }

// NodePorts rejects nodes where a host port the pod wants is in use.
type NodePorts struct{}

var (
	_ framework.PreFilterPlugin   = (*NodePorts)(nil)
	_ framework.FilterPlugin      = (*NodePorts)(nil)
	_ framework.EnqueueExtensions = (*NodePorts)(nil)
	_ framework.PluginFactory     = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &NodePorts{}, nil
}

// Name returns Name.
func (*NodePorts) Name() string { return Name }

// PreFilter collects the pod's host ports once; Skip when it asks for
// none, which is most pods.
func (*NodePorts) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	ports := framework.PodHostPorts(pod)
	if len(ports) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterStateKey, &preFilterState{ports: ports})
	return nil, nil
}

// PreFilterExtensions returns nil: the pod's ports do not depend on other
// pods.
func (*NodePorts) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter rejects nodeInfo if any of the pod's host ports conflicts with
// one in use there (same protocol and port, and the same IP or either on
// 0.0.0.0). The code is Unschedulable: preempting the pod holding the
// port frees it.
func (*NodePorts) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	d, err := state.Read(preFilterStateKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("read %s state: %w", preFilterStateKey, err))
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s state has type %T", preFilterStateKey, d))
	}
	if len(nodeInfo.UsedPorts) == 0 {
		return nil
	}
	for _, p := range s.ports {
		if nodeInfo.UsedPorts.Conflicts(p) {
			return framework.NewStatus(framework.Unschedulable, ErrReason)
		}
	}
	return nil
}

// EventsToRegister returns the events that can make a rejected pod fit: an
// assigned pod going away (freeing its ports), or a new node.
func (*NodePorts) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add},
	}
}
