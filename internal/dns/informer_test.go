// The informer test is in an external package: testutil starts a tug
// server, whose agent imports this package.
package dns_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	tugdns "github.com/tugcluster/tug/internal/dns"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestInformers runs the server against a real tug API server and asks
// it over the network, as dig would.
func TestInformers(t *testing.T) {
	api := testutil.StartServer(t)
	ctx := t.Context()
	const ns = "dnstest"
	cs := api.Client
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	check(t, err)
	tcp80 := []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}}
	web, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: tcp80}}, metav1.CreateOptions{})
	check(t, err)
	if web.Spec.ClusterIP == "" {
		t.Fatal("the API server allocated no cluster IP")
	}
	_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: tcp80}}, metav1.CreateOptions{})
	check(t, err)
	slice, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "nginx-1", Labels: map[string]string{discoveryv1.LabelServiceName: "nginx"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](80)}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.42.0.20"}, Hostname: ptr.To("web-0"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{"10.42.0.21"}, Hostname: ptr.To("web-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
		},
	}, metav1.CreateOptions{})
	check(t, err)
	_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "web.dnstest.svc.cluster.local"}}, metav1.CreateOptions{})
	check(t, err)

	udp, tcp := serve(t, cs)
	const z = ".dnstest.svc.cluster.local."
	webA := "web" + z + " 5 IN A " + web.Spec.ClusterIP
	eventually(t, udp, "web"+z, dns.TypeA, "NOERROR "+webA)
	eventually(t, udp, "web-0.nginx"+z, dns.TypeA, "NOERROR web-0.nginx"+z+" 5 IN A 10.42.0.20")
	eventually(t, udp, "nginx"+z, dns.TypeA, "NOERROR nginx"+z+" 5 IN A 10.42.0.20 | nginx"+z+" 5 IN A 10.42.0.21")
	eventually(t, udp, "_http._tcp.nginx"+z, dns.TypeSRV, "NOERROR _http._tcp.nginx"+z+" 5 IN SRV 0 50 80 web-0.nginx"+z+
		" | _http._tcp.nginx"+z+" 5 IN SRV 0 50 80 web-1.nginx"+z)
	eventually(t, udp, "_http._tcp.web"+z, dns.TypeSRV, "NOERROR _http._tcp.web"+z+" 5 IN SRV 0 100 80 web"+z)
	eventually(t, udp, "ext"+z, dns.TypeA, "NOERROR ext"+z+" 5 IN CNAME web"+z+" | "+webA)
	arpa, err := dns.ReverseAddr(web.Spec.ClusterIP)
	check(t, err)
	eventually(t, udp, arpa, dns.TypePTR, "NOERROR "+arpa+" 5 IN PTR web"+z)
	eventually(t, udp, "nosuch"+z, dns.TypeA, "NXDOMAIN ")
	eventually(t, udp, "dnstest.svc.cluster.local.", dns.TypeA, "NOERROR ")
	eventually(t, udp, "nosuchns.svc.cluster.local.", dns.TypeA, "NXDOMAIN ")
	eventually(t, udp, "10-42-0-9.dnstest.pod.cluster.local.", dns.TypeA, "NOERROR 10-42-0-9.dnstest.pod.cluster.local. 5 IN A 10.42.0.9")
	kube, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	check(t, err)
	eventually(t, udp, "kubernetes.default.svc.cluster.local.", dns.TypeA,
		"NOERROR kubernetes.default.svc.cluster.local. 5 IN A "+kube.Spec.ClusterIP)

	// The same over TCP.
	if got, want := summary(t, tcp, "tcp", "web-1.nginx"+z, dns.TypeA), "NOERROR web-1.nginx"+z+" 5 IN A 10.42.0.21"; got != want {
		t.Errorf("over TCP: got %q, want %q", got, want)
	}

	// Changes reach the answers: an endpoint turns unready, a Service goes.
	slice.Endpoints[0].Conditions.Ready = ptr.To(false)
	_, err = cs.DiscoveryV1().EndpointSlices(ns).Update(ctx, slice, metav1.UpdateOptions{})
	check(t, err)
	eventually(t, udp, "web-0.nginx"+z, dns.TypeA, "NXDOMAIN ")
	eventually(t, udp, "nginx"+z, dns.TypeA, "NOERROR nginx"+z+" 5 IN A 10.42.0.21")
	check(t, cs.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}))
	eventually(t, udp, "web"+z, dns.TypeA, "NXDOMAIN ")
	eventually(t, udp, "ext"+z, dns.TypeA, "NXDOMAIN ext"+z+" 5 IN CNAME web"+z)
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// serve runs a server with informers from client on 127.0.0.1 with random
// ports until the test ends, and checks that Run then returns cleanly.
func serve(t *testing.T, client kubernetes.Interface) (udp, tcp string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tugdns.New(tugdns.Options{Client: client, DisableForwarding: true,
		PacketConns: []net.PacketConn{pc}, Listeners: []net.Listener{l}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return pc.LocalAddr().String(), l.Addr().String()
}

// summary asks one question and spells the response as its rcode and its
// sorted answer records.
func summary(t *testing.T, addr, network, name string, qtype uint16) string {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, qtype), addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	var lines []string
	for _, rr := range resp.Answer {
		lines = append(lines, strings.Join(strings.Fields(rr.String()), " "))
	}
	slices.Sort(lines)
	return dns.RcodeToString[resp.Rcode] + " " + strings.Join(lines, " | ")
}

// eventually asks until the summary is want: informers lag the API.
func eventually(t *testing.T, addr, name string, qtype uint16, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got = summary(t, addr, "udp", name, qtype); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s %s: got %q, want %q", name, dns.TypeToString[qtype], got, want)
}
