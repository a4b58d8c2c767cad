package noderesources

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + FitName

// PreScore computes the pod's requests for scoring once. Scoring counts
// the scheduler's defaults for containers without cpu or memory requests,
// so that such pods spread out instead of piling onto one node.
func (*Fit) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	state.Write(preScoreStateKey, &requestState{Resource: *framework.PodRequests(pod, true)})
	return nil
}

// Score is the LeastAllocated strategy: the share of cpu and memory
// (weight 1 each) the node would have free after taking the pod, in
// [0, 100].
func (*Fit) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	s, err := readRequests(state, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	alloc, used := &nodeInfo.Allocatable, &nodeInfo.NonZeroRequested
	return leastAllocatedScore(
		usage{requested: used.MilliCPU + s.MilliCPU, allocatable: alloc.MilliCPU},
		usage{requested: used.Memory + s.Memory, allocatable: alloc.Memory},
	), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (*Fit) ScoreExtensions() framework.ScoreExtensions { return nil }

// usage is one resource's amount requested (with the pod) and allocatable
// on a node.
type usage struct {
	requested, allocatable int64
}

// leastAllocatedScore averages (allocatable-requested)/allocatable over
// the resources, as a score in [0, 100]. Resources the node does not
// report are left out; one overcommitted scores 0.
func leastAllocatedScore(resources ...usage) int64 {
	var sum, weights int64
	for _, u := range resources {
		if u.allocatable == 0 {
			continue
		}
		weights++
		if u.requested <= u.allocatable {
			sum += (u.allocatable - u.requested) * framework.MaxNodeScore / u.allocatable
		}
	}
	if weights == 0 {
		return 0
	}
	return sum / weights
}
