package tainttoleration

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// preScoreState holds the pod's tolerations that can tolerate a
// PreferNoSchedule taint.
type preScoreState struct {
	tolerations []corev1.Toleration
}

// Clone returns the state itself: it never changes once written.
func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore picks out, once per pod, the tolerations that apply to
// PreferNoSchedule taints: those with that effect or with none.
func (*TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	var tols []corev1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(preScoreStateKey, &preScoreState{tolerations: tols})
	return nil
}

// Score counts nodeInfo's PreferNoSchedule taints the pod does not
// tolerate; NormalizeScore turns fewer into better.
func (*TaintToleration) Score(ctx context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
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
	if len(nodeInfo.Taints) == 0 {
		return 0, nil
	}
	logger := klog.FromContext(ctx)
	var count int64
	for i := range nodeInfo.Taints {
		taint := &nodeInfo.Taints[i]
		if taint.Effect == corev1.TaintEffectPreferNoSchedule && !tolerates(logger, s.tolerations, taint) {
			count++
		}
	}
	return count, nil
}

// ScoreExtensions returns the plugin itself, which normalizes.
func (pl *TaintToleration) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore maps the counts to [0, 100] reversed: a node with no
// intolerable PreferNoSchedule taints gets MaxNodeScore, the node with
// the most gets 0, the others in proportion.
func (*TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores []framework.NodeScore) *framework.Status {
	framework.NormalizeScores(scores, true)
	return nil
}
