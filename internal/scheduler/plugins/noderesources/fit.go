// Package noderesources implements the resource plugins: NodeResourcesFit
// (does the pod's request fit what the node has left, and the
// LeastAllocated score) and NodeResourcesBalancedAllocation (prefer nodes
// whose cpu and memory stay equally used).
package noderesources

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// FitName is the name of the Fit plugin in the registry and in failure
// messages.
const FitName = "NodeResourcesFit"

// Reasons kubectl shows for nodes Fit rejects; extended resources read
// "Insufficient <name>" (see InsufficientReason).
const (
	ErrReasonTooManyPods                  = "Too many pods"
	ErrReasonInsufficientCPU              = "Insufficient cpu"
	ErrReasonInsufficientMemory           = "Insufficient memory"
	ErrReasonInsufficientEphemeralStorage = "Insufficient ephemeral-storage"
)

// InsufficientReason is the reason for a resource the node has too little
// of, for example "Insufficient nvidia.com/gpu".
func InsufficientReason(name corev1.ResourceName) string {
	return "Insufficient " + string(name)
}

const preFilterStateKey framework.StateKey = "PreFilter" + FitName

// requestState holds a pod's requests, computed once per cycle instead of
// once per node.
type requestState struct {
	framework.Resource
}

// Clone returns the state itself: it is never changed after it is
// written, and Fit has no pre-filter extensions that would change it.
func (s *requestState) Clone() framework.StateData { return s }

// Fit rejects nodes without room for the pod's requests and scores nodes
// by how much they would leave free.
type Fit struct{}

var (
	_ framework.PreFilterPlugin   = (*Fit)(nil)
	_ framework.FilterPlugin      = (*Fit)(nil)
	_ framework.EnqueueExtensions = (*Fit)(nil)
	_ framework.PreScorePlugin    = (*Fit)(nil)
	_ framework.ScorePlugin       = (*Fit)(nil)
	_ framework.PluginFactory     = NewFit
)

// NewFit returns the Fit plugin; it needs nothing from the handle.
func NewFit(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &Fit{}, nil
}

// Name returns FitName.
func (*Fit) Name() string { return FitName }

// PreFilter computes the pod's requests (init containers, sidecars and
// overhead included) once for all nodes.
func (*Fit) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	state.Write(preFilterStateKey, &requestState{Resource: *framework.PodRequests(pod, false)})
	return nil, nil
}

// PreFilterExtensions returns nil: the pod's requests do not depend on
// other pods.
func (*Fit) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter rejects nodeInfo if the pod does not fit, listing every resource
// that is short. The code is Unschedulable, since preempting pods may free
// room, unless the pod asks for more of a resource than the node has at
// all: then UnschedulableAndUnresolvable, as upstream, so that preemption
// does not try that node.
func (*Fit) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	s, err := readRequests(state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if reasons := InsufficientResources(&s.Resource, nodeInfo); len(reasons) > 0 {
		code := framework.Unschedulable
		if exceedsAllocatable(&s.Resource, &nodeInfo.Allocatable) {
			code = framework.UnschedulableAndUnresolvable
		}
		return framework.NewStatus(code, reasons...)
	}
	return nil
}

// exceedsAllocatable reports whether req asks for more cpu, memory,
// ephemeral storage or an extended resource than alloc holds in total.
func exceedsAllocatable(req, alloc *framework.Resource) bool {
	if req.MilliCPU > alloc.MilliCPU || req.Memory > alloc.Memory || req.EphemeralStorage > alloc.EphemeralStorage {
		return true
	}
	for name, q := range req.ScalarResources {
		if q > alloc.ScalarResources[name] {
			return true
		}
	}
	return false
}

// InsufficientResources returns one reason per resource nodeInfo lacks for
// a pod requesting req: pod slots first, then cpu, memory, ephemeral
// storage and extended resources by name. An extended resource the node
// does not have at all is insufficient. It allocates only when the pod
// does not fit.
func InsufficientResources(req *framework.Resource, nodeInfo *framework.NodeInfo) []string {
	var reasons []string
	alloc, used := &nodeInfo.Allocatable, &nodeInfo.Requested
	if int64(len(nodeInfo.Pods))+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, ErrReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		reasons = append(reasons, ErrReasonInsufficientCPU)
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		reasons = append(reasons, ErrReasonInsufficientMemory)
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		reasons = append(reasons, ErrReasonInsufficientEphemeralStorage)
	}
	n := len(reasons)
	for name, q := range req.ScalarResources {
		// Reading a nil map is fine: a node without the resource has 0.
		if q > 0 && q > alloc.ScalarResources[name]-used.ScalarResources[name] {
			reasons = append(reasons, InsufficientReason(name))
		}
	}
	// Map order is random; sorted reasons keep messages stable.
	slices.Sort(reasons[n:])
	return reasons
}

// EventsToRegister returns the events that can make a rejected pod fit: a
// new node or more allocatable on one, or an assigned pod leaving or
// shrinking.
func (*Fit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeAllocatable},
		{Resource: framework.AssignedPodResource, ActionType: framework.Delete | framework.UpdatePodScaleDown},
	}
}

func readRequests(state *framework.CycleState, key framework.StateKey) (*requestState, error) {
	d, err := state.Read(key)
	if err != nil {
		return nil, fmt.Errorf("read %s state: %w", key, err)
	}
	s, ok := d.(*requestState)
	if !ok {
		return nil, fmt.Errorf("%s state has type %T", key, d)
	}
	return s, nil
}
