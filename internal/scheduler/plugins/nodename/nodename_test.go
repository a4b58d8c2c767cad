package nodename

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func nodeInfo(name string) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return ni
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		podNodeName string
		node        string
		wantCode    framework.Code
		wantReasons []string
	}{
		{name: "no node name fits any node", node: "n1", wantCode: framework.Success},
		{name: "matching node name fits", podNodeName: "n1", node: "n1", wantCode: framework.Success},
		{
			name: "other node is rejected", podNodeName: "n2", node: "n1",
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"node(s) didn't match the requested node name"},
		},
	}
	p, err := New(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*NodeName)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{NodeName: tt.podNodeName}}
			st := pl.Filter(context.Background(), framework.NewCycleState(), pod, nodeInfo(tt.node))
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
	st := (&NodeName{}).Filter(context.Background(), framework.NewCycleState(), &corev1.Pod{}, framework.NewNodeInfo())
	if st.Code() != framework.Error {
		t.Errorf("code = %v, want Error", st.Code())
	}
}

func TestEventsToRegister(t *testing.T) {
	got := (&NodeName{}).EventsToRegister()
	want := []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
