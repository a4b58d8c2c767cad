package tainttoleration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func nodeInfo(name string, taints ...corev1.Taint) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}})
	return ni
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

func podTolerating(tols ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tols}}
}

func TestFilter(t *testing.T) {
	noSched := taint("dedicated", "gpu", corev1.TaintEffectNoSchedule)
	tests := []struct {
		name        string
		taints      []corev1.Taint
		tolerations []corev1.Toleration
		wantReasons []string
	}{
		{name: "no taints"},
		{name: "NoSchedule not tolerated", taints: []corev1.Taint{noSched}, wantReasons: []string{"node(s) had untolerated taint {dedicated: gpu}"}},
		{
			name:        "NoExecute not tolerated",
			taints:      []corev1.Taint{taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoExecute)},
			wantReasons: []string{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
		},
		{name: "PreferNoSchedule is ignored", taints: []corev1.Taint{taint("a", "b", corev1.TaintEffectPreferNoSchedule)}},
		{
			name: "Equal toleration", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
		},
		{
			name: "empty operator means Equal", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "dedicated", Value: "gpu"}},
		},
		{
			name: "Equal toleration with another value", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "cpu"}},
			wantReasons: []string{"node(s) had untolerated taint {dedicated: gpu}"},
		},
		{
			name: "Exists toleration", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
		},
		{
			name:        "empty key with Exists tolerates everything",
			taints:      []corev1.Taint{noSched, taint("other", "x", corev1.TaintEffectNoExecute)},
			tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		},
		{
			name: "toleration with another effect", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			wantReasons: []string{"node(s) had untolerated taint {dedicated: gpu}"},
		},
		{
			name: "toleration of another key", taints: []corev1.Taint{noSched},
			tolerations: []corev1.Toleration{{Key: "other", Operator: corev1.TolerationOpExists}},
			wantReasons: []string{"node(s) had untolerated taint {dedicated: gpu}"},
		},
		{
			name:        "the first untolerated taint is reported",
			taints:      []corev1.Taint{taint("a", "1", corev1.TaintEffectNoSchedule), taint("b", "2", corev1.TaintEffectNoExecute), taint("c", "3", corev1.TaintEffectNoSchedule)},
			tolerations: []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}},
			wantReasons: []string{"node(s) had untolerated taint {b: 2}"},
		},
		{
			name:        "Gt toleration",
			taints:      []corev1.Taint{taint("sla", "950", corev1.TaintEffectNoSchedule)},
			tolerations: []corev1.Toleration{{Key: "sla", Operator: corev1.TolerationOpGt, Value: "900"}},
		},
		{
			name:        "Lt toleration that does not hold",
			taints:      []corev1.Taint{taint("sla", "950", corev1.TaintEffectNoSchedule)},
			tolerations: []corev1.Toleration{{Key: "sla", Operator: corev1.TolerationOpLt, Value: "900"}},
			wantReasons: []string{"node(s) had untolerated taint {sla: 950}"},
		},
	}
	pl := &TaintToleration{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := pl.Filter(context.Background(), framework.NewCycleState(), podTolerating(tt.tolerations...), nodeInfo("n1", tt.taints...))
			wantCode := framework.Success
			if tt.wantReasons != nil {
				wantCode = framework.UnschedulableAndUnresolvable
			}
			if st.Code() != wantCode {
				t.Errorf("code = %v, want %v", st.Code(), wantCode)
			}
			if diff := cmp.Diff(tt.wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterAllocations(t *testing.T) {
	pl := &TaintToleration{}
	ctx := context.Background()
	pod := podTolerating(corev1.Toleration{Key: "a", Operator: corev1.TolerationOpExists})
	ni := nodeInfo("n1", taint("a", "1", corev1.TaintEffectNoSchedule), taint("b", "2", corev1.TaintEffectPreferNoSchedule))
	state := framework.NewCycleState()
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

func TestEventsToRegister(t *testing.T) {
	want := []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}}
	if diff := cmp.Diff(want, (&TaintToleration{}).EventsToRegister()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
