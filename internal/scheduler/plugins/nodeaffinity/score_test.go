package nodeaffinity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func pref(weight int32, reqs ...corev1.NodeSelectorRequirement) corev1.PreferredSchedulingTerm {
	return corev1.PreferredSchedulingTerm{Weight: weight, Preference: exprTerm(reqs...)}
}

func TestScore(t *testing.T) {
	nodes := []*corev1.Node{
		node("n1", map[string]string{"zone": "a", "disk": "ssd"}),
		node("n2", map[string]string{"zone": "a"}),
		node("n3", map[string]string{"zone": "b", "disk": "hdd"}),
	}
	tests := []struct {
		name           string
		pod            *corev1.Pod
		wantRaw        []int64
		wantNormalized []int64
	}{
		{
			name: "weights add up",
			pod: podPreferring(
				pref(20, expr("zone", corev1.NodeSelectorOpIn, "a")),
				pref(60, expr("disk", corev1.NodeSelectorOpIn, "ssd")),
				pref(5, expr("disk", corev1.NodeSelectorOpExists)),
			),
			wantRaw: []int64{85, 20, 5},
			// 100*20/85 = 23, 100*5/85 = 5.
			wantNormalized: []int64{100, 23, 5},
		},
		{
			name:           "no node matches",
			pod:            podPreferring(pref(10, expr("zone", corev1.NodeSelectorOpIn, "c"))),
			wantRaw:        []int64{0, 0, 0},
			wantNormalized: []int64{0, 0, 0},
		},
		{
			name: "weight 0 and empty terms are ignored",
			pod: podPreferring(
				pref(0, expr("zone", corev1.NodeSelectorOpIn, "a")),
				corev1.PreferredSchedulingTerm{Weight: 50},
				pref(1, expr("zone", corev1.NodeSelectorOpNotIn, "a")),
			),
			wantRaw:        []int64{0, 0, 1},
			wantNormalized: []int64{0, 0, 100},
		},
		{
			name: "matchFields",
			pod: podPreferring(corev1.PreferredSchedulingTerm{
				Weight: 7, Preference: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n2")),
			}),
			wantRaw:        []int64{0, 7, 0},
			wantNormalized: []int64{0, 100, 0},
		},
	}
	pl := &NodeAffinity{}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := framework.NewCycleState()
			if st := pl.PreScore(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreScore: %v %s", st.Code(), st.Message())
			}
			var raw []int64
			var scores []framework.NodeScore
			for _, n := range nodes {
				s, st := pl.Score(ctx, state, tt.pod, nodeInfo(n))
				if !st.IsSuccess() {
					t.Fatalf("Score: %s", st.Message())
				}
				raw = append(raw, s)
				scores = append(scores, framework.NodeScore{Name: n.Name, Score: s})
			}
			if diff := cmp.Diff(tt.wantRaw, raw); diff != "" {
				t.Errorf("raw scores (-want +got):\n%s", diff)
			}
			if st := pl.ScoreExtensions().NormalizeScore(ctx, state, tt.pod, scores); !st.IsSuccess() {
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

func TestPreScore(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want framework.Code
	}{
		{name: "no affinity", pod: &corev1.Pod{}, want: framework.Skip},
		{name: "only required affinity", pod: podWith(nil, exprTerm(expr("a", corev1.NodeSelectorOpExists))), want: framework.Skip},
		{name: "only weight 0", pod: podPreferring(pref(0, expr("a", corev1.NodeSelectorOpExists))), want: framework.Skip},
		{name: "preferred", pod: podPreferring(pref(1, expr("a", corev1.NodeSelectorOpExists))), want: framework.Success},
		{name: "invalid preferred term", pod: podPreferring(pref(1, expr("a", corev1.NodeSelectorOpGt, "x"))), want: framework.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := (&NodeAffinity{}).PreScore(context.Background(), framework.NewCycleState(), tt.pod, nil)
			if st.Code() != tt.want {
				t.Errorf("code = %v, want %v", st.Code(), tt.want)
			}
		})
	}
}
