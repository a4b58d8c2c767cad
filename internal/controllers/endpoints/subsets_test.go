//nolint:staticcheck // SA1019: this controller serves the deprecated Endpoints API
package endpoints

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func pod(name, ip string, ready bool, edit ...func(*corev1.Pod)) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
	for _, e := range edit {
		e(p)
	}
	return p
}

func TestPodPort(t *testing.T) {
	p := pod("a", "10.0.0.1", true, func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP})
	})
	tests := []struct {
		name   string
		sp     corev1.ServicePort
		want   int32
		wantOK bool
	}{
		{name: "number", sp: corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(9000)}, want: 9000, wantOK: true},
		{name: "unset is the port", sp: corev1.ServicePort{Port: 80}, want: 80, wantOK: true},
		{name: "named", sp: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, want: 8080, wantOK: true},
		{name: "named missing", sp: corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("grpc")}},
		{name: "named wrong protocol", sp: corev1.ServicePort{Port: 53, TargetPort: intstr.FromString("dns")}},
		{name: "named udp", sp: corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}, want: 53, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PodPort(p, &tt.sp)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("PodPort = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSubsets(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"a": "b"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	node := "n1"
	addr := func(p *corev1.Pod, host string) corev1.EndpointAddress {
		return corev1.EndpointAddress{IP: p.Status.PodIP, Hostname: host, NodeName: &node,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: p.Name, UID: p.UID}}
	}
	httpPort := []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}
	ready, unready := pod("r", "10.0.0.2", true), pod("u", "10.0.0.1", false)
	terminating := pod("t", "10.0.0.3", true, func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} })
	noIP := pod("x", "", true)
	done := pod("d", "10.0.0.4", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	grpc := pod("g", "10.0.0.5", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "grpc" })
	named := pod("h", "10.0.0.6", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "h0", "web" })
	tests := []struct {
		name string
		edit func(*corev1.Service)
		pods []*corev1.Pod
		want []corev1.EndpointSubset
	}{
		{name: "ready and not ready", pods: []*corev1.Pod{ready, unready, terminating, noIP, done, grpc},
			want: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(ready, "")},
				NotReadyAddresses: []corev1.EndpointAddress{addr(unready, "")}, Ports: httpPort}}},
		{name: "publish not ready", edit: func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true },
			pods: []*corev1.Pod{ready, unready, terminating},
			want: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(unready, ""), addr(ready, ""), addr(terminating, "")}, Ports: httpPort}}},
		{name: "hostname under subdomain", pods: []*corev1.Pod{named},
			want: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(named, "h0")}, Ports: httpPort}}},
		{name: "ports split subsets", edit: func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "m", Port: 90})
		}, pods: []*corev1.Pod{ready, grpc},
			want: []corev1.EndpointSubset{
				{Addresses: []corev1.EndpointAddress{addr(ready, "")}, Ports: []corev1.EndpointPort{httpPort[0], {Name: "m", Port: 90, Protocol: corev1.ProtocolTCP}}},
				{Addresses: []corev1.EndpointAddress{addr(grpc, "")}, Ports: []corev1.EndpointPort{{Name: "m", Port: 90, Protocol: corev1.ProtocolTCP}}},
			}},
		{name: "headless without ports", edit: func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil },
			pods: []*corev1.Pod{ready}, want: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{addr(ready, "")}}}},
		{name: "no pods", pods: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := svc.DeepCopy()
			if tt.edit != nil {
				tt.edit(s)
			}
			got, truncated := Subsets(s, tt.pods)
			if diff := cmp.Diff(tt.want, got); diff != "" || truncated {
				t.Errorf("Subsets (-want +got, truncated %v):\n%s", truncated, diff)
			}
		})
	}
}

func TestSubsetsTruncate(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	var pods []*corev1.Pod
	for i := range MaxAddresses + 5 {
		pods = append(pods, pod("p", "10.1."+itoa(i/250)+"."+itoa(i%250), i >= 10))
	}
	got, truncated := Subsets(svc, pods)
	if !truncated || len(got) != 1 || len(got[0].Addresses) != MaxAddresses-5 || len(got[0].NotReadyAddresses) != 5 {
		t.Errorf("truncated=%v subsets=%d", truncated, len(got))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
