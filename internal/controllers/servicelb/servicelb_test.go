package servicelb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, readyStatus corev1.ConditionStatus, unschedulable bool, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NodeSpec{Unschedulable: unschedulable},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: readyStatus}},
			Addresses:  addrs,
		},
	}
}

func TestIngress(t *testing.T) {
	internal := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	external := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
	}
	nodes := []*corev1.Node{
		node("b", corev1.ConditionTrue, false, internal("10.0.0.2")),
		node("a", corev1.ConditionTrue, false, internal("10.0.0.1"), external("192.0.2.1")),
		node("down", corev1.ConditionUnknown, false, internal("10.0.0.3")),
		node("cordoned", corev1.ConditionTrue, true, internal("10.0.0.4")),
		node("v6", corev1.ConditionTrue, false, internal("fd00::5")),
	}
	ips := func(in []corev1.LoadBalancerIngress) []string {
		var out []string
		for _, i := range in {
			if i.IPMode == nil || *i.IPMode != corev1.LoadBalancerIPModeVIP {
				t.Errorf("ingress %s: IPMode %v, want VIP", i.IP, i.IPMode)
			}
			out = append(out, i.IP)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		families []corev1.IPFamily
		want     []string
	}{
		{"default IPv4", nil, []string{"10.0.0.2", "192.0.2.1"}},
		{"IPv4", []corev1.IPFamily{corev1.IPv4Protocol}, []string{"10.0.0.2", "192.0.2.1"}},
		{"IPv6", []corev1.IPFamily{corev1.IPv6Protocol}, []string{"fd00::5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ips(Ingress(nodes, tc.families))); diff != "" {
				t.Errorf("Ingress (-want +got):\n%s", diff)
			}
		})
	}
}
