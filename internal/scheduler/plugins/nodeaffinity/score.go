package nodeaffinity

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// preScoreState holds the parsed preferred terms.
type preScoreState struct {
	preferred []weightedTerm
}

// Clone returns the state itself: it never changes once written.
func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore parses the pod's preferred node affinity once; Skip when it
// has none, since every node would score the same.
func (*NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	terms, err := parsePreferred(pod)
	if err != nil {
		return framework.AsStatus(err)
	}
	if len(terms) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreStateKey, &preScoreState{preferred: terms})
	return nil
}

// Score is the sum of the weights of the preferred terms nodeInfo
// matches; NormalizeScore maps it to [0, 100].
func (*NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	d, err := state.Read(preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(fmt.Errorf("read %s state: %w", preScoreStateKey, err))
	}
	s, ok := d.(*preScoreState)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("%s state has type %T", preScoreStateKey, d))
	}
	var sum int64
	for i := range s.preferred {
		if s.preferred[i].matches(nodeInfo.Node) {
			sum += s.preferred[i].weight
		}
	}
	return sum, nil
}

// ScoreExtensions returns the plugin itself, which normalizes.
func (pl *NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore scales the scores so that the best node gets
// MaxNodeScore and the others their share of it; if no node matched any
// term, all stay 0.
func (*NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores []framework.NodeScore) *framework.Status {
	framework.NormalizeScores(scores, false)
	return nil
}
