package frameworktest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Scorer is a score plugin with a PreScore step.
type Scorer interface {
	framework.PreScorePlugin
	framework.ScorePlugin
}

// ScoreNodes runs pl's PreScore, then Score on each node and
// NormalizeScore (when pl has one) in one cycle, as the scheduler does.
// It returns PreScore's status and, when PreScore succeeded, the raw and
// normalised scores in the order of nodes. A Score or NormalizeScore
// failure fails t.
func ScoreNodes(t testing.TB, pl Scorer, pod *corev1.Pod, nodes []*framework.NodeInfo) (raw, normalized []framework.NodeScore, preScore *framework.Status) {
	t.Helper()
	ctx := context.Background()
	state := framework.NewCycleState()
	if st := pl.PreScore(ctx, state, pod, nodes); !st.IsSuccess() {
		return nil, nil, st
	}
	for _, ni := range nodes {
		s, st := pl.Score(ctx, state, pod, ni)
		if !st.IsSuccess() {
			t.Fatalf("Score %s: %v", ni.NodeName(), st.Message())
		}
		raw = append(raw, framework.NodeScore{Name: ni.NodeName(), Score: s})
	}
	normalized = append([]framework.NodeScore(nil), raw...)
	if ext := pl.ScoreExtensions(); ext != nil {
		if st := ext.NormalizeScore(ctx, state, pod, normalized); !st.IsSuccess() {
			t.Fatalf("NormalizeScore: %v", st.Message())
		}
	}
	return raw, normalized, nil
}

// ScoresByName maps node names to scores.
func ScoresByName(scores []framework.NodeScore) map[string]int64 {
	m := make(map[string]int64, len(scores))
	for _, s := range scores {
		m[s.Name] = s.Score
	}
	return m
}

// Scores lists the scores alone, in order.
func Scores(scores []framework.NodeScore) []int64 {
	var out []int64
	for _, s := range scores {
		out = append(out, s.Score)
	}
	return out
}
