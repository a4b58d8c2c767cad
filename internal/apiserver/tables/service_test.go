package tables

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestServiceCells(t *testing.T) {
	tcp := corev1.ProtocolTCP
	runCellCases(t, []cellCase{
		{"cluster ip", &corev1.Service{
			ObjectMeta: om("kubernetes"),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Port: 443, Protocol: tcp}}},
		}, []any{"kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "5m", "<none>"}},
		{"headless with external ips", &corev1.Service{
			ObjectMeta: om("db"),
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ExternalIPs: []string{"198.51.100.1", "198.51.100.2"},
				Selector: map[string]string{"app": "db", "tier": "data"},
				Ports:    []corev1.ServicePort{{Port: 5432, Protocol: tcp}, {Port: 53, Protocol: corev1.ProtocolUDP}},
			},
		}, []any{"db", "ClusterIP", "None", "198.51.100.1,198.51.100.2", "5432/TCP,53/UDP", "5m", "app=db,tier=data"}},
		{"node port", &corev1.Service{
			ObjectMeta: om("np"),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.3.4", Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: tcp}}},
		}, []any{"np", "NodePort", "10.96.3.4", "<none>", "80:30080/TCP", "5m", "<none>"}},
		{"load balancer pending", &corev1.Service{
			ObjectMeta: om("lb"),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.5.5", Ports: []corev1.ServicePort{{Port: 80, NodePort: 31000, Protocol: tcp}}},
		}, []any{"lb", "LoadBalancer", "10.96.5.5", "<pending>", "80:31000/TCP", "5m", "<none>"}},
		{"load balancer ready", &corev1.Service{
			ObjectMeta: om("lb2"),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.5.6", ExternalIPs: []string{"192.0.2.50"}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
				{IP: "192.0.2.9", Hostname: "ignored.example.com"}, {Hostname: "lb.example.com"}, {IP: "192.0.2.9"},
			}}},
		}, []any{"lb2", "LoadBalancer", "10.96.5.6", "192.0.2.9,lb.example.com,192.0.2.50", "<none>", "5m", "<none>"}},
		{"external name", &corev1.Service{
			ObjectMeta: om("ext"),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"},
		}, []any{"ext", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"}},
	})
}

// subset is one subset of an Endpoints object: addresses (ready or not)
// and port numbers.
type subset struct {
	ips      []string
	ports    []int32
	notReady bool
}

// endpoints builds an Endpoints object; the type is deprecated but still
// served, as upstream does.
func endpoints(name string, subsets ...subset) runtime.Object {
	ep := &corev1.Endpoints{ObjectMeta: om(name)} //nolint:staticcheck // SA1019: served as upstream does
	for _, s := range subsets {
		var ss corev1.EndpointSubset //nolint:staticcheck // SA1019: served as upstream does
		for _, ip := range s.ips {
			if s.notReady {
				ss.NotReadyAddresses = append(ss.NotReadyAddresses, corev1.EndpointAddress{IP: ip})
			} else {
				ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
			}
		}
		for _, p := range s.ports {
			ss.Ports = append(ss.Ports, corev1.EndpointPort{Port: p})
		}
		ep.Subsets = append(ep.Subsets, ss)
	}
	return ep
}

func TestEndpointsCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"none", endpoints("empty"), []any{"empty", "<none>", "5m"}},
		{"one", endpoints("kubernetes", subset{ips: []string{"172.18.0.2"}, ports: []int32{6443}}),
			[]any{"kubernetes", "172.18.0.2:6443", "5m"}},
		{"more", endpoints("web",
			subset{ips: []string{"10.0.0.1", "10.0.0.2"}, ports: []int32{80, 443}},
			subset{ips: []string{"fd00::3"}, ports: []int32{80}},
		), []any{"web", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...", "5m"}},
		{"headless without ports", endpoints("hl", subset{ips: []string{"10.0.0.9"}}),
			[]any{"hl", "10.0.0.9", "5m"}},
		{"ipv6 with port", endpoints("v6", subset{ips: []string{"fd00::9"}, ports: []int32{80}}),
			[]any{"v6", "[fd00::9]:80", "5m"}},
		{"only not ready", endpoints("nr", subset{ips: []string{"10.0.0.4"}, ports: []int32{80}, notReady: true}),
			[]any{"nr", "", "5m"}},
	})
}

func TestEndpointSliceCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"kubernetes", &discoveryv1.EndpointSlice{
			ObjectMeta:  om("kubernetes"),
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("https"), Port: ptr[int32](6443)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"172.18.0.2"}}},
		}, []any{"kubernetes", "IPv4", "6443", "172.18.0.2", "5m"}},
		{"many", &discoveryv1.EndpointSlice{
			ObjectMeta:  om("web-abcde"),
			AddressType: discoveryv1.AddressTypeIPv6,
			Ports:       []discoveryv1.EndpointPort{{Port: ptr[int32](80)}, {Name: ptr("metrics")}, {}, {Port: ptr[int32](9090)}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"fd00::1"}}, {Addresses: []string{"fd00::2"}}, {Addresses: []string{"fd00::3"}}, {Addresses: []string{"fd00::4"}},
			},
		}, []any{"web-abcde", "IPv6", "80,metrics,* + 1 more...", "fd00::1,fd00::2,fd00::3 + 1 more...", "5m"}},
		{"empty", &discoveryv1.EndpointSlice{ObjectMeta: om("empty"), AddressType: discoveryv1.AddressTypeFQDN},
			[]any{"empty", "FQDN", "<unset>", "<unset>", "5m"}},
	})
}
