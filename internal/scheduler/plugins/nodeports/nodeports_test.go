package nodeports

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func port(protocol corev1.Protocol, ip string, hostPort int32) corev1.ContainerPort {
	return corev1.ContainerPort{ContainerPort: 8080, HostPort: hostPort, HostIP: ip, Protocol: protocol}
}

func podWithPorts(uid string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
	}
}

func nodeInfo(pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	return ni
}

func TestFilter(t *testing.T) {
	const reason = "node(s) didn't have free ports for the requested pod ports"
	tcp, udp, sctp := corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP
	tests := []struct {
		name     string
		pod      *corev1.Pod
		existing []*corev1.Pod
		want     framework.Code
	}{
		{name: "free node", pod: podWithPorts("p", port(tcp, "", 80)), want: framework.Success},
		{
			name: "same port, protocol and IP", pod: podWithPorts("p", port(tcp, "127.0.0.1", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "127.0.0.1", 80))}, want: framework.Unschedulable,
		},
		{
			name: "empty protocol and IP mean TCP on 0.0.0.0", pod: podWithPorts("p", port("", "", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "0.0.0.0", 80))}, want: framework.Unschedulable,
		},
		{
			name: "0.0.0.0 wanted, specific IP used", pod: podWithPorts("p", port(tcp, "0.0.0.0", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "10.0.0.1", 80))}, want: framework.Unschedulable,
		},
		{
			name: "specific IP wanted, 0.0.0.0 used", pod: podWithPorts("p", port(tcp, "10.0.0.1", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 80))}, want: framework.Unschedulable,
		},
		{
			name: "different specific IPs", pod: podWithPorts("p", port(tcp, "10.0.0.1", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "10.0.0.2", 80))}, want: framework.Success,
		},
		{
			name: "different protocols", pod: podWithPorts("p", port(udp, "", 53)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 53), port(sctp, "", 53))}, want: framework.Success,
		},
		{
			name: "same protocol UDP", pod: podWithPorts("p", port(udp, "", 53)),
			existing: []*corev1.Pod{podWithPorts("e", port(udp, "", 53))}, want: framework.Unschedulable,
		},
		{
			name: "different ports", pod: podWithPorts("p", port(tcp, "", 80), port(tcp, "", 443)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 8080))}, want: framework.Success,
		},
		{
			name: "one of several ports conflicts", pod: podWithPorts("p", port(tcp, "", 80), port(tcp, "", 443)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 443))}, want: framework.Unschedulable,
		},
		{
			name: "container ports without host ports never conflict", pod: podWithPorts("p", port(tcp, "", 0), port(tcp, "", 80)),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 0))}, want: framework.Success,
		},
		{
			name: "a sidecar's host port conflicts", want: framework.Unschedulable,
			pod: func() *corev1.Pod {
				p := podWithPorts("p")
				p.Spec.InitContainers = []corev1.Container{{
					Name: "sc", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways), Ports: []corev1.ContainerPort{port(tcp, "", 9100)},
				}}
				return p
			}(),
			existing: []*corev1.Pod{podWithPorts("e", port(tcp, "", 9100))},
		},
	}
	pl := &NodePorts{}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := framework.NewCycleState()
			if _, st := pl.PreFilter(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreFilter: %v %s", st.Code(), st.Message())
			}
			st := pl.Filter(ctx, state, tt.pod, nodeInfo(tt.existing...))
			if st.Code() != tt.want {
				t.Errorf("code = %v, want %v", st.Code(), tt.want)
			}
			var wantReasons []string
			if tt.want != framework.Success {
				wantReasons = []string{reason}
			}
			if diff := cmp.Diff(wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreFilterSkipsPodsWithoutHostPorts(t *testing.T) {
	_, st := (&NodePorts{}).PreFilter(context.Background(), framework.NewCycleState(), podWithPorts("p", port(corev1.ProtocolTCP, "", 0)), nil)
	if !st.IsSkip() {
		t.Errorf("code = %v, want Skip", st.Code())
	}
}

func TestFilterWithoutState(t *testing.T) {
	st := (&NodePorts{}).Filter(context.Background(), framework.NewCycleState(), podWithPorts("p"), nodeInfo())
	if st.Code() != framework.Error {
		t.Errorf("code = %v, want Error", st.Code())
	}
}

func TestFilterAllocations(t *testing.T) {
	pl := &NodePorts{}
	ctx := context.Background()
	pod := podWithPorts("p", port(corev1.ProtocolTCP, "", 80))
	ni := nodeInfo(podWithPorts("e", port(corev1.ProtocolTCP, "", 443), port(corev1.ProtocolUDP, "", 80)))
	state := framework.NewCycleState()
	pl.PreFilter(ctx, state, pod, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if st := pl.Filter(ctx, state, pod, ni); !st.IsSuccess() {
			t.Fatalf("Filter: %s", st.Message())
		}
	})
	if allocs != 0 {
		t.Errorf("Filter allocates %v times per node, want 0", allocs)
	}
}

func TestEventsToRegister(t *testing.T) {
	want := []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add},
	}
	if diff := cmp.Diff(want, (&NodePorts{}).EventsToRegister()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
