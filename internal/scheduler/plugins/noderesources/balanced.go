package noderesources

import (
	"context"
	"errors"
	"math"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// BalancedAllocationName is the name of the BalancedAllocation plugin in
// the registry.
const BalancedAllocationName = "NodeResourcesBalancedAllocation"

const balancedStateKey framework.StateKey = "PreScore" + BalancedAllocationName

// BalancedAllocation prefers nodes whose cpu and memory would be used in
// equal shares after placing the pod, so that neither runs out while the
// other sits idle.
type BalancedAllocation struct{}

var (
	_ framework.PreScorePlugin = (*BalancedAllocation)(nil)
	_ framework.ScorePlugin    = (*BalancedAllocation)(nil)
	_ framework.PluginFactory  = NewBalancedAllocation
)

// NewBalancedAllocation returns the plugin; it needs nothing from the
// handle.
func NewBalancedAllocation(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &BalancedAllocation{}, nil
}

// Name returns BalancedAllocationName.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// PreScore computes the pod's requests once. A pod requesting neither cpu
// nor memory is skipped: it would change no balance, and scoring it by the
// nodes' current balance would pile such pods onto the same node.
// Upstream uses the actual requests here (no defaults for containers that
// request nothing), and so does tug.
func (*BalancedAllocation) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	req := framework.PodRequests(pod, false)
	if req.MilliCPU == 0 && req.Memory == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(balancedStateKey, &requestState{Resource: *req})
	return nil
}

// Score is (1 - standard deviation of the cpu and memory fractions in
// use) * 100, each fraction capped at 1.
func (*BalancedAllocation) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	s, err := readRequests(state, balancedStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	alloc, used := &nodeInfo.Allocatable, &nodeInfo.Requested
	return balancedScore(
		usage{requested: used.MilliCPU + s.MilliCPU, allocatable: alloc.MilliCPU},
		usage{requested: used.Memory + s.Memory, allocatable: alloc.Memory},
	), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (*BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }

// balancedScore is the score for two resources; a resource the node does
// not report is left out, and with fewer than two left the node is
// perfectly balanced.
func balancedScore(a, b usage) int64 {
	if a.allocatable == 0 || b.allocatable == 0 {
		return framework.MaxNodeScore
	}
	// For two values the (population) standard deviation is half their
	// distance.
	std := math.Abs(fraction(a)-fraction(b)) / 2
	return int64((1 - std) * float64(framework.MaxNodeScore))
}

func fraction(u usage) float64 {
	return min(float64(u.requested)/float64(u.allocatable), 1)
}
