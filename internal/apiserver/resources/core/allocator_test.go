package core

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

func TestAllocatorConcurrent(t *testing.T) {
	const workers, each = 64, 50
	s := newTestServiceStrategy(t, "10.43.0.0/16", DefaultNodePortRange)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				svc := service(fmt.Sprintf("ns%d", w), fmt.Sprintf("svc%d", i))
				if errs := create(s, svc); errs != nil {
					t.Errorf("%s: %v", serviceKey(svc), errs)
					return
				}
				mu.Lock()
				if other, dup := seen[svc.Spec.ClusterIP]; dup {
					t.Errorf("%s and %s both got %s", other, serviceKey(svc), svc.Spec.ClusterIP)
				}
				seen[svc.Spec.ClusterIP] = serviceKey(svc)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Errorf("%d distinct IPs, want %d", len(seen), workers*each)
	}
}

func TestAllocatorExhaustion(t *testing.T) {
	// A /28 has 16 addresses: network, broadcast, kubernetes and DNS
	// leave 12.
	s := newTestServiceStrategy(t, "10.43.0.0/28", DefaultNodePortRange)
	var last *corev1.Service
	for i := range 12 {
		last = service("default", fmt.Sprintf("s%d", i))
		if errs := create(s, last); errs != nil {
			t.Fatalf("service %d: %v", i, errs)
		}
	}
	full := service("default", "full")
	if diff := cmp.Diff([]string{"InternalError spec.clusterIPs"}, create(s, full)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	s.alloc.Release(last)
	if errs := create(s, service("default", "after")); errs != nil {
		t.Errorf("after release: %v", errs)
	}
}

func TestAllocatorSync(t *testing.T) {
	a, err := NewAllocator(netip.MustParsePrefix("10.43.0.0/16"), DefaultNodePortRange)
	if err != nil {
		t.Fatal(err)
	}
	existing := []corev1.Service{
		*service("default", "kubernetes", func(s *corev1.ServiceSpec) { s.ClusterIP = "10.43.0.1" }),
		*service("default", "a", func(s *corev1.ServiceSpec) {
			s.ClusterIP, s.Type = "10.43.0.2", corev1.ServiceTypeNodePort
			s.Ports[0].NodePort = 30000
		}),
		*service("default", "b", func(s *corev1.ServiceSpec) { s.ClusterIP = "10.43.0.2" }),
		*service("default", "c", func(s *corev1.ServiceSpec) { s.ClusterIP = "10.44.0.2" }),
		*service("default", "headless", func(s *corev1.ServiceSpec) { s.ClusterIP = "None" }),
	}
	err = a.Sync(existing)
	if err == nil || !strings.Contains(err.Error(), "default/b") || !strings.Contains(err.Error(), "default/c") {
		t.Errorf("Sync error = %v, want conflicts of default/b and default/c", err)
	}
	if ips, ports := a.Free(); ips != 65536-4-1 || ports != 2767 {
		t.Errorf("free = %d, %d", ips, ports)
	}
	s := newServiceStrategy(a)
	svc := service("default", "new")
	if errs := create(s, svc); errs != nil {
		t.Fatal(errs)
	}
	if svc.Spec.ClusterIP == "10.43.0.2" {
		t.Error("allocated an address held by a stored service")
	}
}

func TestAllocatorIPv6(t *testing.T) {
	s := newTestServiceStrategy(t, "fd00:43::/108", DefaultNodePortRange)
	svc := service("default", "v6")
	if errs := create(s, svc); errs != nil {
		t.Fatal(errs)
	}
	ip := netip.MustParseAddr(svc.Spec.ClusterIP)
	if !ip.Is6() || !netip.MustParsePrefix("fd00:43::/108").Contains(ip) {
		t.Errorf("got %s", ip)
	}
	if diff := cmp.Diff([]corev1.IPFamily{corev1.IPv6Protocol}, svc.Spec.IPFamilies); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
}

func TestNewAllocatorErrors(t *testing.T) {
	for _, tt := range []struct {
		cidr  string
		ports utilnet.PortRange
	}{
		{"10.0.0.0/8", DefaultNodePortRange},
		{"10.43.0.0/31", DefaultNodePortRange},
		{"10.43.0.0/16", utilnet.PortRange{Base: 65000, Size: 1000}},
	} {
		if _, err := NewAllocator(netip.MustParsePrefix(tt.cidr), tt.ports); err == nil {
			t.Errorf("NewAllocator(%s, %s) succeeded", tt.cidr, tt.ports.String())
		}
	}
}
