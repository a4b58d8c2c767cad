package core

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/utils/ptr"
)

func newTestServiceStrategy(t *testing.T, cidr string, ports utilnet.PortRange) *serviceStrategy {
	t.Helper()
	alloc, err := NewAllocator(netip.MustParsePrefix(cidr), ports)
	if err != nil {
		t.Fatal(err)
	}
	return newServiceStrategy(alloc)
}

func service(namespace, name string, mutate ...func(*corev1.ServiceSpec)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	for _, m := range mutate {
		m(&svc.Spec)
	}
	return svc
}

// create runs a service through the create hooks, as the store does.
func create(s *serviceStrategy, svc *corev1.Service) []string {
	ctx := context.Background()
	s.PrepareForCreate(ctx, svc)
	s.Default(svc)
	return summary(s.Validate(ctx, svc))
}

func TestServiceDefaults(t *testing.T) {
	single := ptr.To(corev1.IPFamilyPolicySingleStack)
	cluster := ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	v4 := []corev1.IPFamily{corev1.IPv4Protocol}
	tcp80 := []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}}
	tests := []struct {
		name   string
		mutate func(*corev1.ServiceSpec)
		want   corev1.ServiceSpec
	}{
		{"ClusterIP", func(*corev1.ServiceSpec) {}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
			IPFamilyPolicy: single, IPFamilies: v4, InternalTrafficPolicy: cluster,
		}},
		{"NodePort", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeNodePort }, corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
			IPFamilyPolicy: single, IPFamilies: v4, InternalTrafficPolicy: cluster,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
		}},
		{"LoadBalancer", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeLoadBalancer }, corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
			IPFamilyPolicy: single, IPFamilies: v4, InternalTrafficPolicy: cluster,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster, AllocateLoadBalancerNodePorts: ptr.To(true),
		}},
		{"ExternalName", func(s *corev1.ServiceSpec) {
			s.Type, s.ExternalName = corev1.ServiceTypeExternalName, "example.com"
			s.IPFamilies = v4
		}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "example.com", SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
		}},
		{"headless", func(s *corev1.ServiceSpec) { s.ClusterIP = corev1.ClusterIPNone }, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
			ClusterIP: "None", ClusterIPs: []string{"None"}, IPFamilyPolicy: single, IPFamilies: v4, InternalTrafficPolicy: cluster,
		}},
		{"headless without selector", func(s *corev1.ServiceSpec) { s.ClusterIP, s.Selector = corev1.ClusterIPNone, nil }, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, Ports: tcp80,
			ClusterIP: "None", ClusterIPs: []string{"None"}, IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, InternalTrafficPolicy: cluster,
		}},
		{"ClientIP affinity, named target port", func(s *corev1.ServiceSpec) {
			s.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Ports[0].TargetPort = intstr.FromString("http")
		}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}},
			Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
			IPFamilyPolicy:        single, IPFamilies: v4, InternalTrafficPolicy: cluster,
		}},
	}
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := service("default", "web", tt.mutate)
			s.Default(svc)
			svc.Spec.Selector = nil
			if diff := cmp.Diff(tt.want, svc.Spec); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.ServiceSpec)
		want   []string
	}{
		{"valid", func(*corev1.ServiceSpec) {}, nil},
		{"headless without ports", func(s *corev1.ServiceSpec) { s.ClusterIP, s.Ports = corev1.ClusterIPNone, nil }, nil},
		{"no ports", func(s *corev1.ServiceSpec) { s.Ports = nil }, []string{"FieldValueRequired spec.ports"}},
		{"port 0", func(s *corev1.ServiceSpec) { s.Ports[0].Port = 0 }, []string{"FieldValueRequired spec.ports[0].port"}},
		{"port too large", func(s *corev1.ServiceSpec) { s.Ports[0].Port = 65536 }, []string{"FieldValueInvalid spec.ports[0].port"}},
		{"unnamed second port", func(s *corev1.ServiceSpec) {
			s.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Port: 81}}
		}, []string{"FieldValueRequired spec.ports[1].name"}},
		{"duplicate port names", func(s *corev1.ServiceSpec) {
			s.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "a", Port: 81}}
		}, []string{"FieldValueDuplicate spec.ports[1].name"}},
		{"bad protocol", func(s *corev1.ServiceSpec) { s.Ports[0].Protocol = "ICMP" }, []string{"FieldValueNotSupported spec.ports[0].protocol"}},
		{"bad selector", func(s *corev1.ServiceSpec) { s.Selector = map[string]string{"a b": "c"} }, []string{"FieldValueInvalid spec.selector"}},
		{"bad type", func(s *corev1.ServiceSpec) { s.Type = "Magic" }, []string{"FieldValueNotSupported spec.type"}},
		{"nodePort on ClusterIP", func(s *corev1.ServiceSpec) { s.Ports[0].NodePort = 30080 },
			[]string{"FieldValueForbidden spec.ports[0].nodePort"}},
		{"bad cluster IP", func(s *corev1.ServiceSpec) { s.ClusterIP = "10.43.0.300" }, []string{"FieldValueInvalid spec.clusterIP"}},
		{"ExternalName without name", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeExternalName },
			[]string{"FieldValueRequired spec.externalName"}},
		{"dual stack required", func(s *corev1.ServiceSpec) {
			s.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		}, []string{"FieldValueInvalid spec.ipFamilyPolicy"}},
		{"IPv6 on an IPv4 cluster", func(s *corev1.ServiceSpec) { s.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} },
			[]string{"FieldValueInvalid spec.ipFamilies[0]"}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.ServiceSpec) {
			s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}, []string{"FieldValueInvalid spec.externalTrafficPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
			if diff := cmp.Diff(tt.want, create(s, service("default", "web", tt.mutate))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceAllocation(t *testing.T) {
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	kubernetes := service("default", "kubernetes")
	if errs := create(s, kubernetes); errs != nil {
		t.Fatal(errs)
	}
	if got := kubernetes.Spec.ClusterIP; got != "10.43.0.1" {
		t.Errorf("kubernetes service got %s, want 10.43.0.1", got)
	}
	web := service("default", "web")
	if errs := create(s, web); errs != nil {
		t.Fatal(errs)
	}
	if web.Spec.ClusterIP == "10.43.0.0" || web.Spec.ClusterIP == "10.43.0.1" || web.Spec.ClusterIP == "10.43.0.10" {
		t.Errorf("web got reserved address %s", web.Spec.ClusterIP)
	}
	if diff := cmp.Diff([]string{web.Spec.ClusterIP}, web.Spec.ClusterIPs); diff != "" {
		t.Errorf("clusterIPs (-want +got):\n%s", diff)
	}

	explicit := func(ns, name, ip string) *corev1.Service {
		return service(ns, name, func(s *corev1.ServiceSpec) { s.ClusterIP = ip })
	}
	tests := []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"free address", explicit("default", "a", "10.43.1.1"), nil},
		{"duplicate", explicit("default", "b", "10.43.1.1"), []string{"FieldValueInvalid spec.clusterIPs"}},
		{"same service again", explicit("default", "a", "10.43.1.1"), nil},
		{"DNS address by kube-dns", explicit("kube-system", "kube-dns", "10.43.0.10"), nil},
		{"DNS address by another", explicit("kube-system", "coredns", "10.43.0.10"), []string{"FieldValueInvalid spec.clusterIPs"}},
		{"kubernetes address by another", explicit("default", "c", "10.43.0.1"), []string{"FieldValueInvalid spec.clusterIPs"}},
		{"outside the range", explicit("default", "d", "10.44.0.1"), []string{"FieldValueInvalid spec.clusterIPs"}},
		{"headless", explicit("default", "e", "None"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, create(s, tt.svc)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}

	dup := explicit("default", "b", "10.43.1.1")
	s.Default(dup)
	if errs := s.Validate(context.Background(), dup); len(errs) != 1 || errs[0].Detail != "failed to allocate IP 10.43.1.1: provided IP is already allocated" {
		t.Errorf("duplicate: %v", errs)
	}
}

func TestServiceNodePorts(t *testing.T) {
	s := newTestServiceStrategy(t, "10.43.0.0/16", utilnet.PortRange{Base: 30000, Size: 3})
	np := service("default", "np", func(s *corev1.ServiceSpec) {
		s.Type = corev1.ServiceTypeNodePort
		s.Ports = []corev1.ServicePort{{Name: "dns", Port: 53}, {Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "web", Port: 80}}
	})
	if errs := create(s, np); errs != nil {
		t.Fatal(errs)
	}
	got := []int32{np.Spec.Ports[0].NodePort, np.Spec.Ports[1].NodePort, np.Spec.Ports[2].NodePort}
	if diff := cmp.Diff([]int32{30000, 30000, 30001}, got); diff != "" {
		t.Errorf("node ports (-want +got):\n%s", diff)
	}
	taken := service("default", "taken", func(s *corev1.ServiceSpec) {
		s.Type = corev1.ServiceTypeNodePort
		s.Ports[0].NodePort = 30001
	})
	if diff := cmp.Diff([]string{"FieldValueInvalid spec.ports[0].nodePort"}, create(s, taken)); diff != "" {
		t.Errorf("taken (-want +got):\n%s", diff)
	}
	lb := service("default", "lb", func(s *corev1.ServiceSpec) {
		s.Type = corev1.ServiceTypeLoadBalancer
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	// One port left: the service port gets it and the health check fails,
	// and nothing the failed create took is kept.
	if diff := cmp.Diff([]string{"InternalError spec.healthCheckNodePort"}, create(s, lb)); diff != "" {
		t.Errorf("exhausted (-want +got):\n%s", diff)
	}
	if ips, ports := s.alloc.Free(); ports != 1 || ips != 65536-4-1 {
		t.Errorf("free = %d IPs, %d ports; want %d, 1", ips, ports, 65536-4-1)
	}
}

func TestServiceUpdate(t *testing.T) {
	ctx := context.Background()
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	old := service("default", "web", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeNodePort })
	if errs := create(s, old); errs != nil {
		t.Fatal(errs)
	}

	// kubectl apply of the original manifest: no clusterIP, no nodePort.
	svc := service("default", "web", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeNodePort })
	s.PrepareForUpdate(ctx, svc, old)
	s.Default(svc)
	if errs := s.ValidateUpdate(ctx, svc, old); len(errs) > 0 {
		t.Fatal(errs)
	}
	if svc.Spec.ClusterIP != old.Spec.ClusterIP || svc.Spec.Ports[0].NodePort != old.Spec.Ports[0].NodePort {
		t.Errorf("allocations not carried over: %+v", svc.Spec)
	}

	moved := old.DeepCopy()
	moved.Spec.ClusterIP, moved.Spec.ClusterIPs = "10.43.9.9", []string{"10.43.9.9"}
	if diff := cmp.Diff([]string{"FieldValueInvalid spec.clusterIP"}, summary(s.ValidateUpdate(ctx, moved, old))); diff != "" {
		t.Errorf("changed clusterIP (-want +got):\n%s", diff)
	}

	// Back to ClusterIP: the node port is given up once the write commits.
	plain := old.DeepCopy()
	plain.Spec.Type, plain.Spec.ExternalTrafficPolicy = corev1.ServiceTypeClusterIP, ""
	s.PrepareForUpdate(ctx, plain, old)
	s.Default(plain)
	if errs := s.ValidateUpdate(ctx, plain, old); len(errs) > 0 {
		t.Fatal(errs)
	}
	if plain.Spec.Ports[0].NodePort != 0 {
		t.Errorf("nodePort kept: %d", plain.Spec.Ports[0].NodePort)
	}
	_, before := s.alloc.Free()
	s.Committed(plain, old)
	if _, after := s.alloc.Free(); after != before+1 {
		t.Errorf("free ports %d -> %d, want one released", before, after)
	}
	ips, _ := s.alloc.Free()
	s.Committed(nil, plain) // deleted
	if after, _ := s.alloc.Free(); after != ips+1 {
		t.Errorf("free IPs %d -> %d, want one released", ips, after)
	}
}

func TestServiceAborted(t *testing.T) {
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	ips, ports := s.alloc.Free()
	svc := service("default", "dry", func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeNodePort })
	if errs := create(s, svc); errs != nil {
		t.Fatal(errs)
	}
	s.Aborted(svc, nil)
	if gotIPs, gotPorts := s.alloc.Free(); gotIPs != ips || gotPorts != ports {
		t.Errorf("after abort: %d IPs, %d ports free; want %d, %d", gotIPs, gotPorts, ips, ports)
	}
}

func TestServiceGetAttrs(t *testing.T) {
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	svc := service("default", "web", func(s *corev1.ServiceSpec) { s.ClusterIP = "10.43.0.20" })
	s.Default(svc)
	_, fs, err := s.GetAttrs(svc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"metadata.name": "web", "metadata.namespace": "default", "spec.clusterIP": "10.43.0.20", "spec.type": "ClusterIP"}
	if diff := cmp.Diff(want, map[string]string(fs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestServiceTypeChange replays updates checked against upstream's API
// server: a change of type drops the fields that lose their meaning when
// the client left them as stored, and affinity None drops its config.
func TestServiceTypeChange(t *testing.T) {
	ctx := context.Background()
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	update := func(old *corev1.Service, mutate func(*corev1.ServiceSpec)) (*corev1.Service, []string) {
		svc := old.DeepCopy()
		mutate(&svc.Spec)
		s.PrepareForUpdate(ctx, svc, old)
		s.Default(svc)
		return svc, summary(s.ValidateUpdate(ctx, svc, old))
	}

	lb := service("default", "lb", func(s *corev1.ServiceSpec) {
		s.Type, s.ExternalTrafficPolicy = corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal
		s.LoadBalancerClass = ptr.To("example.com/lb")
	})
	if errs := create(s, lb); errs != nil {
		t.Fatal(errs)
	}
	alias, errs := update(lb, func(s *corev1.ServiceSpec) {
		s.Type, s.ExternalName, s.ClusterIP, s.ClusterIPs = corev1.ServiceTypeExternalName, "foo.example.com", "", nil
	})
	if errs != nil {
		t.Fatalf("LoadBalancer to ExternalName refused: %v", errs)
	}
	want := corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "foo.example.com", Selector: map[string]string{"app": "lb"},
		Ports:           []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
		SessionAffinity: corev1.ServiceAffinityNone,
	}
	if diff := cmp.Diff(want, alias.Spec); diff != "" {
		t.Errorf("spec after becoming ExternalName (-want +got):\n%s", diff)
	}

	sticky := service("default", "sticky", func(s *corev1.ServiceSpec) { s.SessionAffinity = corev1.ServiceAffinityClientIP })
	if errs := create(s, sticky); errs != nil {
		t.Fatal(errs)
	}
	loose, errs := update(sticky, func(s *corev1.ServiceSpec) { s.SessionAffinity = corev1.ServiceAffinityNone })
	if errs != nil || loose.Spec.SessionAffinityConfig != nil {
		t.Errorf("affinity None: config %+v, errors %v; want the config dropped", loose.Spec.SessionAffinityConfig, errs)
	}
}
