package core

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestSyncPodIPs(t *testing.T) {
	tests := []struct {
		name string
		in   corev1.PodStatus
		ip   string
		ips  []corev1.PodIP
	}{
		{"podIP alone is listed", corev1.PodStatus{PodIP: "10.0.0.1"}, "10.0.0.1", []corev1.PodIP{{IP: "10.0.0.1"}}},
		{"the list alone gives podIP", corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::2"}}},
			"10.0.0.2", []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::2"}}},
		{"podIP wins a disagreement", corev1.PodStatus{PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::2"}}},
			"10.0.0.1", []corev1.PodIP{{IP: "10.0.0.1"}}},
		{"agreement is kept", corev1.PodStatus{PodIP: "10.0.0.2", PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::2"}}},
			"10.0.0.2", []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::2"}}},
		{"nothing stays nothing", corev1.PodStatus{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.in
			syncPodIPs(&status)
			if status.PodIP != tt.ip || !cmp.Equal(status.PodIPs, tt.ips) {
				t.Fatalf("podIP %q podIPs %v, want %q %v", status.PodIP, status.PodIPs, tt.ip, tt.ips)
			}
		})
	}
}

// TestPodStatusValidation checks status writes as Kubernetes does (the
// messages were compared with kube-apiserver's), and that the spec, which
// a status write cannot change, is not checked again.
func TestPodStatusValidation(t *testing.T) {
	bound := minimalPod()
	bound.Spec.NodeName = "node-1"
	tests := []struct {
		name   string
		status corev1.PodStatus
		want   []string
	}{
		{"a running pod", corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}},
			HostIP: "198.18.0.1", HostIPs: []corev1.HostIP{{IP: "198.18.0.1"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: "example.com/Gate", Status: corev1.ConditionTrue}}}, nil},
		{"a bad pod IP", corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "notanip"}}},
			[]string{`status.podIPs[0]: Invalid value: "notanip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{"two IPv4 pod IPs", corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "10.0.0.3"}}},
			[]string{`status.podIPs: Invalid value: [{"IP":"10.0.0.2"},{"IP":"10.0.0.3"}]: may specify no more than one IP for each IP family`}},
		{"host IPs not topped by hostIP", corev1.PodStatus{HostIP: "1.2.3.4", HostIPs: []corev1.HostIP{{IP: "1.2.3.5"}}},
			[]string{"status.hostIPs[0].ip: Invalid value: \"1.2.3.5\": must be equal to `hostIP`"}},
		{"a bad host IP", corev1.PodStatus{HostIP: "1.2.3.4", HostIPs: []corev1.HostIP{{IP: "1.2.3.4"}, {IP: "nope"}}},
			[]string{`status.hostIPs[1]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{"a bad condition type", corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: "bad type!", Status: corev1.ConditionTrue}}},
			[]string{`status.conditions[0].Type: Invalid value: "bad type!": name part must consist of alphanumeric characters, '-', '_' or '.', ` +
				`and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`}},
		{"a node nominated for a bound pod", corev1.PodStatus{NominatedNodeName: "node-2"},
			[]string{"status.nominatedNodeName: Forbidden: may not be set on pods that are already bound to a node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := bound.DeepCopy()
			pod.Status = tt.status
			// An invalid spec is the stored one: not the status write's to refuse.
			pod.Spec.Containers[0].Name = "Not_A_DNS_Label"
			old := pod.DeepCopy()
			old.Status = corev1.PodStatus{}
			var got []string
			for _, err := range newPodStrategy().ValidateStatusUpdate(context.Background(), pod, old) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
