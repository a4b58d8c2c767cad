package noderesources

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestFitFilter(t *testing.T) {
	// A node with 4 cpu, 8Gi memory, 20Gi ephemeral storage, 2 GPUs,
	// 1Gi of 2Mi huge pages and room for 3 pods.
	alloc := rl("cpu", "4", "memory", "8Gi", "ephemeral-storage", "20Gi", "pods", "3",
		"example.com/gpu", "2", "hugepages-2Mi", "1Gi")
	always := ptr.To(corev1.ContainerRestartPolicyAlways)
	tests := []struct {
		name        string
		pod         *corev1.Pod
		existing    []*corev1.Pod
		alloc       corev1.ResourceList
		wantCode    framework.Code
		wantReasons []string
	}{
		{name: "empty pod fits", pod: podReq("p"), wantCode: framework.Success},
		{name: "fits exactly", pod: podReq("p", rl("cpu", "4", "memory", "8Gi")), wantCode: framework.Success},
		{
			name: "fits next to existing pods", pod: podReq("p", rl("cpu", "2", "memory", "4Gi")),
			existing: []*corev1.Pod{podReq("e1", rl("cpu", "1", "memory", "2Gi")), podReq("e2", rl("cpu", "1"))},
			wantCode: framework.Success,
		},
		{
			name: "insufficient cpu", pod: podReq("p", rl("cpu", "3")),
			existing: []*corev1.Pod{podReq("e1", rl("cpu", "1500m"))},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu"},
		},
		// From here on the pod asks for more than the node has at all:
		// UnschedulableAndUnresolvable, since preemption cannot help.
		{
			name: "insufficient memory", pod: podReq("p", rl("memory", "9Gi")),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient memory"},
		},
		{
			name: "insufficient ephemeral storage", pod: podReq("p", rl("ephemeral-storage", "21Gi")),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient ephemeral-storage"},
		},
		{
			name:     "every short resource is reported",
			pod:      podReq("p", rl("cpu", "5", "memory", "9Gi", "ephemeral-storage", "30Gi", "example.com/gpu", "3", "hugepages-2Mi", "2Gi")),
			existing: []*corev1.Pod{podReq("e1"), podReq("e2"), podReq("e3")},
			wantCode: framework.UnschedulableAndUnresolvable,
			wantReasons: []string{"Too many pods", "Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage",
				"Insufficient example.com/gpu", "Insufficient hugepages-2Mi"},
		},
		{
			name: "too many pods, even for a pod requesting nothing", pod: podReq("p"),
			existing: []*corev1.Pod{podReq("e1"), podReq("e2"), podReq("e3")},
			wantCode: framework.Unschedulable, wantReasons: []string{"Too many pods"},
		},
		{
			name: "node without a pods allocatable takes no pods", pod: podReq("p"), alloc: rl("cpu", "4"),
			wantCode: framework.Unschedulable, wantReasons: []string{"Too many pods"},
		},
		{name: "extended resource fits", pod: podReq("p", rl("example.com/gpu", "2")), wantCode: framework.Success},
		{
			name: "extended resource used up", pod: podReq("p", rl("example.com/gpu", "1")),
			existing: []*corev1.Pod{podReq("e1", rl("example.com/gpu", "2"))},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient example.com/gpu"},
		},
		{
			name: "extended resource the node lacks", pod: podReq("p", rl("example.com/fpga", "1")),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient example.com/fpga"},
		},
		{
			name: "init container peak counts", wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient cpu"},
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "1"))
				p.Spec.InitContainers = []corev1.Container{ctr(rl("cpu", "5"))}
				return p
			}(),
		},
		{
			name: "init container below the containers' sum fits", wantCode: framework.Success,
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "2"), rl("cpu", "2"))
				p.Spec.InitContainers = []corev1.Container{ctr(rl("cpu", "3"))}
				return p
			}(),
		},
		{
			name: "sidecar adds to the containers", wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient memory"},
			pod: func() *corev1.Pod {
				p := podReq("p", rl("memory", "6Gi"))
				sc := ctr(rl("memory", "3Gi"))
				sc.RestartPolicy = always
				p.Spec.InitContainers = []corev1.Container{sc}
				return p
			}(),
		},
		{
			name: "sidecar runs alongside later init containers", wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient cpu"},
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "1"))
				sc := ctr(rl("cpu", "1"))
				sc.RestartPolicy = always
				// Peak during init: sidecar 1 + init 3.5 = 4.5 > 4.
				p.Spec.InitContainers = []corev1.Container{sc, ctr(rl("cpu", "3500m"))}
				return p
			}(),
		},
		{
			name: "overhead is added", wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient cpu"},
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "3900m"))
				p.Spec.Overhead = rl("cpu", "200m")
				return p
			}(),
		},
		{
			name: "overhead within room fits", wantCode: framework.Success,
			pod: func() *corev1.Pod {
				p := podReq("p", rl("cpu", "3800m"))
				p.Spec.Overhead = rl("cpu", "200m")
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
			ni := nodeInfo(a, tt.existing...)
			state := framework.NewCycleState()
			if _, st := pl.PreFilter(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreFilter: %v", st.AsError())
			}
			st := pl.Filter(ctx, state, tt.pod, ni)
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v (%s)", st.Code(), tt.wantCode, st.Message())
			}
			if diff := cmp.Diff(tt.wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitFilterErrors(t *testing.T) {
	pl := mustFit(t)
	ctx := context.Background()
	t.Run("no pre-filter state", func(t *testing.T) {
		st := pl.Filter(ctx, framework.NewCycleState(), podReq("p"), nodeInfo(rl("pods", "1")))
		if st.Code() != framework.Error {
			t.Errorf("code = %v, want Error", st.Code())
		}
	})
	t.Run("no node", func(t *testing.T) {
		state := framework.NewCycleState()
		pl.PreFilter(ctx, state, podReq("p"), nil)
		if st := pl.Filter(ctx, state, podReq("p"), framework.NewNodeInfo()); st.Code() != framework.Error {
			t.Errorf("code = %v, want Error", st.Code())
		}
	})
}

func TestFitStateSurvivesClone(t *testing.T) {
	pl := mustFit(t)
	ctx := context.Background()
	pod := podReq("p", rl("cpu", "3"))
	state := framework.NewCycleState()
	pl.PreFilter(ctx, state, pod, nil)
	st := pl.Filter(ctx, state.Clone(), pod, nodeInfo(rl("cpu", "2", "pods", "10")))
	if diff := cmp.Diff([]string{"Insufficient cpu"}, st.Reasons()); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

func TestFitEventsToRegister(t *testing.T) {
	want := []framework.ClusterEvent{
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeAllocatable},
		{Resource: framework.AssignedPodResource, ActionType: framework.Delete | framework.UpdatePodScaleDown},
	}
	if diff := cmp.Diff(want, mustFit(t).EventsToRegister()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestFitFilterAllocations keeps the hot path allocation-free for pods
// that fit, extended resources included.
func TestFitFilterAllocations(t *testing.T) {
	pl := mustFit(t)
	ctx := context.Background()
	pod := podReq("p", rl("cpu", "1", "memory", "1Gi", "example.com/gpu", "1"))
	ni := nodeInfo(rl("cpu", "4", "memory", "8Gi", "pods", "10", "example.com/gpu", "2"), podReq("e", rl("cpu", "1")))
	state := framework.NewCycleState()
	pl.PreFilter(ctx, state, pod, nil)
	pl.PreScore(ctx, state, pod, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if st := pl.Filter(ctx, state, pod, ni); !st.IsSuccess() {
			t.Fatalf("Filter: %s", st.Message())
		}
		if _, st := pl.Score(ctx, state, pod, ni); !st.IsSuccess() {
			t.Fatalf("Score: %s", st.Message())
		}
	})
	if allocs != 0 {
		t.Errorf("Filter+Score allocate %v times per node, want 0", allocs)
	}
}
