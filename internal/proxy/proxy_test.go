package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/proxy"
	"github.com/tugcluster/tug/internal/proxy/proxytest"
	"github.com/tugcluster/tug/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(proxytest.Main(m)) }

// eventually polls check until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProxyFollowsTheAPI(t *testing.T) {
	srv := testutil.StartServer(t)
	topo := proxytest.NewTopology(t, 2)
	for i, b := range topo.Backends {
		b.Serve(t, fmt.Sprintf("b%d", i), 8080)
	}
	p, err := proxy.New(proxy.Options{
		Client:       srv.Client,
		NodeName:     "node-a",
		NodeIPs:      []netip.Addr{proxytest.NodeIP},
		ClusterCIDRs: []netip.Prefix{proxytest.ClusterCIDR},
		ServiceCIDRs: []netip.Prefix{proxytest.ServiceCIDR},
		NetNSFd:      topo.Node.Fd(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-p.Synced():
	case err := <-done:
		t.Fatalf("Run ended before the first sync: %v", err)
	}

	// A Service without a selector, whose EndpointSlice the user writes.
	svcs := srv.Client.CoreV1().Services("default")
	svc, err := svcs.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clusterIP := svc.Spec.ClusterIP + ":80"
	nodePort := fmt.Sprintf("%s:%d", proxytest.NodeIP, svc.Spec.Ports[0].NodePort)
	if !proxytest.ServiceCIDR.Contains(netip.MustParseAddr(svc.Spec.ClusterIP)) || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("Service got cluster IP %q and node port %d, want one in %s and one allocated",
			svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort, proxytest.ServiceCIDR)
	}

	// No endpoints yet: refused.
	answers := func(leaf *proxytest.Netns, addr string, want map[string]bool) func() error {
		return func() error {
			for _, r := range leaf.Dial(t, "tcp", addr, 10, 2*time.Second) {
				if !want[r.String()] {
					return fmt.Errorf("answer %q, want one of %v", r, want)
				}
			}
			return nil
		}
	}
	eventually(t, "no endpoints", answers(topo.Client, clusterIP, map[string]bool{"error: refused": true}))

	endpoint := func(i int, ready bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{
			Addresses:  []string{proxytest.BackendIP(i).String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
			NodeName:   ptr.To(fmt.Sprintf("node-%d", i)),
		}
	}
	slices := srv.Client.DiscoveryV1().EndpointSlices("default")
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{
			discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "proxy-test"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
		Endpoints:   []discoveryv1.Endpoint{endpoint(0, true), endpoint(1, true)},
	}
	if slice, err = slices.Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fromClient := func(i int) string { return fmt.Sprintf("b%d from %s", i, proxytest.ClientIP) }
	eventually(t, "two endpoints", answers(topo.Client, clusterIP, map[string]bool{fromClient(0): true, fromClient(1): true}))
	outside := map[string]bool{}
	for i := range 2 {
		outside[fmt.Sprintf("b%d from %s", i, proxytest.NodeAddrToward(i))] = true
	}
	eventually(t, "the NodePort from outside", answers(topo.Outside, nodePort, outside))

	// Backend 0 goes unready.
	slice.Endpoints = []discoveryv1.Endpoint{endpoint(0, false), endpoint(1, true)}
	if _, err := slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "one ready endpoint", answers(topo.Client, clusterIP, map[string]bool{fromClient(1): true}))

	if err := svcs.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Service deleted", func() error {
		if r := topo.Client.DialOne(t, "tcp", clusterIP, 2*time.Second); r.Err != "refused" {
			return errors.New(r.String())
		}
		tab := topo.Node.ListTable(t, "tug")
		if tab == nil {
			return errors.New("no table")
		}
		for name := range tab.Chains {
			if strings.Contains(name, "default/web/") {
				return fmt.Errorf("chain %s still there", name)
			}
		}
		return nil
	})
}

func TestOptionsValidate(t *testing.T) {
	if _, err := proxy.New(proxy.Options{NodeName: "n"}); err == nil {
		t.Error("New without a client succeeded")
	}
}
