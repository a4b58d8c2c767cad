package nodeunschedulable

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestFilter(t *testing.T) {
	const reason = "node(s) were unschedulable"
	tests := []struct {
		name          string
		unschedulable bool
		tolerations   []corev1.Toleration
		wantCode      framework.Code
		wantReasons   []string
	}{
		{name: "schedulable node", wantCode: framework.Success},
		{
			name: "cordoned node, no tolerations", unschedulable: true,
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{reason},
		},
		{
			name: "cordoned node, exists toleration for the key", unschedulable: true,
			tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			wantCode:    framework.Success,
		},
		{
			name: "cordoned node, toleration of all taints (empty key, Exists)", unschedulable: true,
			tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			wantCode:    framework.Success,
		},
		{
			name: "cordoned node, toleration with another effect", unschedulable: true,
			tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			wantCode:    framework.UnschedulableAndUnresolvable, wantReasons: []string{reason},
		},
		{
			name: "cordoned node, toleration of another key", unschedulable: true,
			tolerations: []corev1.Toleration{{Key: "other", Operator: corev1.TolerationOpExists}},
			wantCode:    framework.UnschedulableAndUnresolvable, wantReasons: []string{reason},
		},
		{
			name:        "schedulable node ignores tolerations",
			tolerations: []corev1.Toleration{{Key: "other", Operator: corev1.TolerationOpExists}},
			wantCode:    framework.Success,
		},
	}
	p, err := New(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*NodeUnschedulable)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := framework.NewNodeInfo()
			ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Unschedulable: tt.unschedulable}})
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tt.tolerations}}
			st := pl.Filter(context.Background(), framework.NewCycleState(), pod, ni)
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v", st.Code(), tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterWithoutNode(t *testing.T) {
	p, _ := New(context.Background(), nil)
	st := p.(*NodeUnschedulable).Filter(context.Background(), framework.NewCycleState(), &corev1.Pod{}, framework.NewNodeInfo())
	if diff := cmp.Diff([]string{"node(s) had unknown conditions"}, st.Reasons()); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if st.Code() != framework.UnschedulableAndUnresolvable {
		t.Errorf("code = %v", st.Code())
	}
}

func TestEventsToRegister(t *testing.T) {
	got := (&NodeUnschedulable{}).EventsToRegister()
	want := []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
