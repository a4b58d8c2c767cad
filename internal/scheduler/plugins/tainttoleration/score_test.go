package tainttoleration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestScore(t *testing.T) {
	prefer := func(key, value string) corev1.Taint { return taint(key, value, corev1.TaintEffectPreferNoSchedule) }
	nodes := []*framework.NodeInfo{
		nodeInfo("clean"),
		nodeInfo("one", prefer("a", "1")),
		nodeInfo("two", prefer("a", "1"), prefer("b", "2")),
		nodeInfo("hard", taint("c", "3", corev1.TaintEffectNoSchedule), prefer("a", "1"), prefer("b", "2"), prefer("d", "4")),
	}
	tests := []struct {
		name           string
		tolerations    []corev1.Toleration
		wantRaw        []int64
		wantNormalized []int64
	}{
		{
			name:    "no tolerations",
			wantRaw: []int64{0, 1, 2, 3},
			// 100 - 100*1/3 = 67, 100 - 100*2/3 = 34.
			wantNormalized: []int64{100, 67, 34, 0},
		},
		{
			name:           "PreferNoSchedule toleration",
			tolerations:    []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectPreferNoSchedule}},
			wantRaw:        []int64{0, 0, 1, 2},
			wantNormalized: []int64{100, 100, 50, 0},
		},
		{
			name:           "toleration without effect applies",
			tolerations:    []corev1.Toleration{{Key: "b", Value: "2"}},
			wantRaw:        []int64{0, 1, 1, 2},
			wantNormalized: []int64{100, 50, 50, 0},
		},
		{
			name:           "NoSchedule toleration does not count for scoring",
			tolerations:    []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			wantRaw:        []int64{0, 1, 2, 3},
			wantNormalized: []int64{100, 67, 34, 0},
		},
		{
			name:           "everything tolerated",
			tolerations:    []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			wantRaw:        []int64{0, 0, 0, 0},
			wantNormalized: []int64{100, 100, 100, 100},
		},
	}
	pl := &TaintToleration{}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := podTolerating(tt.tolerations...)
			state := framework.NewCycleState()
			if st := pl.PreScore(ctx, state, pod, nodes); !st.IsSuccess() {
				t.Fatalf("PreScore: %s", st.Message())
			}
			var raw []int64
			var scores []framework.NodeScore
			for _, ni := range nodes {
				s, st := pl.Score(ctx, state, pod, ni)
				if !st.IsSuccess() {
					t.Fatalf("Score: %s", st.Message())
				}
				raw = append(raw, s)
				scores = append(scores, framework.NodeScore{Name: ni.NodeName(), Score: s})
			}
			if diff := cmp.Diff(tt.wantRaw, raw); diff != "" {
				t.Errorf("raw scores (-want +got):\n%s", diff)
			}
			if st := pl.ScoreExtensions().NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
				t.Fatalf("NormalizeScore: %s", st.Message())
			}
			var normalized []int64
			for _, s := range scores {
				normalized = append(normalized, s.Score)
			}
			if diff := cmp.Diff(tt.wantNormalized, normalized); diff != "" {
				t.Errorf("normalized scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoreWithoutPreScore(t *testing.T) {
	_, st := (&TaintToleration{}).Score(context.Background(), framework.NewCycleState(), &corev1.Pod{}, nodeInfo("n1"))
	if st.Code() != framework.Error {
		t.Errorf("code = %v, want Error", st.Code())
	}
}
