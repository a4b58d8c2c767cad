package proxy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/proxy/nft"
)

func svcObj(mutate func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.43.0.10", ClusterIPs: []string{"10.43.0.10"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: 30080}},
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func sliceObj(name string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)}},
		Endpoints:   eps,
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestServiceFromAPI(t *testing.T) {
	ready := discoveryv1.Endpoint{Addresses: []string{"10.42.0.5"}, NodeName: ptr.To("n1")}
	terminating := discoveryv1.Endpoint{Addresses: []string{"10.42.0.6"}, Conditions: discoveryv1.EndpointConditions{
		Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)}}
	otherPort := discoveryv1.Endpoint{Addresses: []string{"10.42.1.7", "10.42.1.8"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}
	base := nft.Service{Namespace: "ns", Name: "web", ClusterIPs: []netip.Addr{addr("10.43.0.10")}}
	port := func(nodePort uint16, eps ...nft.Endpoint) []nft.Port {
		return []nft.Port{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: nodePort, Endpoints: eps}}
	}
	with := func(f func(*nft.Service)) *nft.Service {
		s := base
		f(&s)
		return &s
	}
	for _, c := range []struct {
		name   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   *nft.Service
	}{
		{
			name: "conditions, named ports per slice, first address, slice order",
			svc:  svcObj(nil),
			slices: []*discoveryv1.EndpointSlice{
				sliceObj("web-b", 9090, otherPort),
				sliceObj("web-a", 8080, ready, terminating),
				{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-fqdn"}, AddressType: discoveryv1.AddressTypeFQDN},
			},
			want: with(func(s *nft.Service) {
				s.Ports = port(0,
					nft.Endpoint{Addr: addr("10.42.0.5"), Port: 8080, Ready: true, Serving: true, NodeName: "n1"},
					nft.Endpoint{Addr: addr("10.42.0.6"), Port: 8080, Serving: true, Terminating: true},
					nft.Endpoint{Addr: addr("10.42.1.7"), Port: 9090, Ready: true, Serving: true})
			}),
		},
		{
			name:   "a slice without the port's name gives nothing",
			svc:    svcObj(func(s *corev1.Service) { s.Spec.Ports[0].Name = "other" }),
			slices: []*discoveryv1.EndpointSlice{sliceObj("web-a", 8080, ready)},
			want: with(func(s *nft.Service) {
				s.Ports = []nft.Port{{Name: "other", Protocol: corev1.ProtocolTCP, Port: 80}}
			}),
		},
		{
			name: "LoadBalancer: node ports, ingress IPs but not Proxy-mode ones, policies, affinity",
			svc: svcObj(func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.ExternalIPs = []string{"198.51.100.10"}
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
					{IP: "198.51.100.11"}, {Hostname: "lb.example"},
					{IP: "198.51.100.12", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)},
				}
			}),
			want: with(func(s *nft.Service) {
				s.ExternalIPs = []netip.Addr{addr("198.51.100.10")}
				s.LoadBalancerIPs = []netip.Addr{addr("198.51.100.11")}
				s.ExternalLocal, s.InternalLocal = true, true
				s.AffinityTimeout = 3 * time.Hour
				s.Ports = port(30080)
			}),
		},
		{
			name: "affinity timeout, default protocol",
			svc: svcObj(func(s *corev1.Service) {
				s.Spec.Ports[0].Protocol = ""
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
			}),
			want: with(func(s *nft.Service) {
				s.AffinityTimeout = time.Minute
				s.Ports = port(0)
			}),
		},
		{name: "headless", svc: svcObj(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"} })},
		{name: "ExternalName", svc: svcObj(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ServiceTypeExternalName, "", nil
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := serviceFromAPI(c.svc, c.slices)
			if diff := cmp.Diff(c.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSlimObjectsKeepWhatTheRulesNeed(t *testing.T) {
	svc := svcObj(func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.Selector = map[string]string{"app": "web"}
		s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}}
		s.Annotations = map[string]string{"big": "x"}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.11"}}
	})
	slim, err := slimService(svc)
	if err != nil {
		t.Fatal(err)
	}
	slice := sliceObj("web-a", 8080, discoveryv1.Endpoint{Addresses: []string{"10.42.0.5"}, Hostname: ptr.To("h"),
		TargetRef: &corev1.ObjectReference{Name: "pod"}})
	slimS, err := slimSlice(slice)
	if err != nil {
		t.Fatal(err)
	}
	s := slimS.(*discoveryv1.EndpointSlice)
	if s.Endpoints[0].TargetRef != nil || s.Endpoints[0].Hostname != nil || slim.(*corev1.Service).ManagedFields != nil {
		t.Error("slim objects keep fields the rules do not use")
	}
	// What the rules see is unchanged.
	want := serviceFromAPI(svc, []*discoveryv1.EndpointSlice{slice})
	got := serviceFromAPI(slim.(*corev1.Service), []*discoveryv1.EndpointSlice{s})
	if !want.Equal(got) {
		t.Errorf("slim objects convert to %+v, want %+v", got, want)
	}
}
