package noderesources

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestFitScore(t *testing.T) {
	alloc := rl("cpu", "4", "memory", "10Gi", "pods", "110")
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		alloc    corev1.ResourceList
		want     int64
	}{
		// cpu (4000-2000)/4000 = 50, memory (10-5)/10 = 50.
		{
			name: "half used", pod: podReq("p", rl("cpu", "1", "memory", "3Gi")),
			existing: []*corev1.Pod{podReq("e", rl("cpu", "1", "memory", "2Gi"))}, want: 50,
		},
		// cpu 100m default: 3900*100/4000 = 97; memory 200Mi default:
		// (10240-200)*100/10240 = 98; mean 97.
		{name: "defaults for a pod requesting nothing", pod: podReq("p", nil), want: 97},
		// cpu (4000-1000)/4000 = 75, memory (10-1)/10 = 90: mean 82.
		{name: "uneven", pod: podReq("p", rl("cpu", "1", "memory", "1Gi")), want: 82},
		// cpu overcommitted scores 0; memory 90: mean 45.
		{name: "overcommitted cpu", pod: podReq("p", rl("cpu", "5", "memory", "1Gi")), want: 45},
		// Existing pods count their defaults too: two empty pods use
		// 200m and 400Mi; the pod asks 1800m and 4720Mi: cpu 50,
		// memory (10240-5120)/10240 = 50.
		{
			name: "existing pods count defaults", pod: podReq("p", rl("cpu", "1800m", "memory", "4720Mi")),
			existing: []*corev1.Pod{podReq("e1", nil), podReq("e2", nil)}, want: 50,
		},
		// Only cpu reported: (4000-1000)/4000 = 75.
		{name: "node without memory", pod: podReq("p", rl("cpu", "1", "memory", "1Gi")), alloc: rl("cpu", "4"), want: 75},
		{name: "node reporting nothing", pod: podReq("p", rl("cpu", "1")), alloc: corev1.ResourceList{}, want: 0},
		// Overhead counts: cpu (4000-2000)/4000 = 50, memory 50.
		{
			name: "overhead", want: 50,
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "1", "memory", "4Gi"))
				p.Spec.Overhead = rl("cpu", "1", "memory", "1Gi")
				return p
			}(),
		},
	}
	pl := mustFit(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alloc
			if tt.alloc != nil {
				a = tt.alloc
			}
			state := framework.NewCycleState()
			if st := pl.PreScore(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreScore: %v", st.AsError())
			}
			got, st := pl.Score(ctx, state, tt.pod, nodeInfo(a, tt.existing...))
			if !st.IsSuccess() {
				t.Fatalf("Score: %v", st.AsError())
			}
			if got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFitScoreWithoutPreScore(t *testing.T) {
	_, st := mustFit(t).Score(context.Background(), framework.NewCycleState(), podReq("p"), nodeInfo(rl("cpu", "1")))
	if st.Code() != framework.Error {
		t.Errorf("code = %v, want Error", st.Code())
	}
}

func TestBalancedAllocationScore(t *testing.T) {
	alloc := rl("cpu", "4", "memory", "8Gi", "pods", "110")
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		alloc    corev1.ResourceList
		want     int64
	}{
		// Fractions 0.25 and 0.5: std 0.125, score 87.
		{name: "uneven", pod: podReq("p", rl("cpu", "1", "memory", "4Gi")), want: 87},
		// Fractions 0.5 and 0.5.
		{
			name: "even with existing pods", pod: podReq("p", rl("cpu", "1", "memory", "2Gi")),
			existing: []*corev1.Pod{podReq("e", rl("cpu", "1", "memory", "2Gi"))}, want: 100,
		},
		// Fractions 1 and 0: std 0.5.
		{name: "all cpu", pod: podReq("p", rl("cpu", "4")), want: 50},
		// Fractions capped at 1: 1 and 0.5, std 0.25.
		{name: "overcommitted cpu", pod: podReq("p", rl("cpu", "8", "memory", "4Gi")), want: 75},
		// Requests without defaults: the existing empty pods add
		// nothing, fractions 0.25 and 0.25 (with defaults they would
		// be 0.5 and 0.31, scoring 90).
		{
			name: "existing pods count actual requests", pod: podReq("p", rl("cpu", "1", "memory", "8Gi")),
			alloc: rl("cpu", "4", "memory", "32Gi"), existing: emptyPods(10), want: 100,
		},
		{name: "node without memory", pod: podReq("p", rl("cpu", "1", "memory", "4Gi")), alloc: rl("cpu", "4"), want: 100},
	}
	pl := mustBalanced(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alloc
			if tt.alloc != nil {
				a = tt.alloc
			}
			state := framework.NewCycleState()
			if st := pl.PreScore(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreScore: %v", st.AsError())
			}
			got, st := pl.Score(ctx, state, tt.pod, nodeInfo(a, tt.existing...))
			if !st.IsSuccess() {
				t.Fatalf("Score: %v", st.AsError())
			}
			if got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
			if got < framework.MinNodeScore || got > framework.MaxNodeScore {
				t.Errorf("score %d out of range", got)
			}
		})
	}
}

func TestBalancedAllocationSkipsBestEffort(t *testing.T) {
	pl := mustBalanced(t)
	st := pl.PreScore(context.Background(), framework.NewCycleState(), podReq("p", rl("example.com/gpu", "1")), nil)
	if !st.IsSkip() {
		t.Errorf("code = %v, want Skip", st.Code())
	}
}

func emptyPods(n int) []*corev1.Pod {
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = podReq(fmt.Sprintf("e%d", i), nil)
	}
	return out
}
