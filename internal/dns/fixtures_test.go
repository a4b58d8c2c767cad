package dns

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// svcBuilder builds a Service for the tests.
type svcBuilder struct{ svc *corev1.Service }

func makeService(ns, name string) svcBuilder {
	return svcBuilder{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}}
}

func (b svcBuilder) ips(ips ...string) svcBuilder {
	b.svc.Spec.ClusterIP, b.svc.Spec.ClusterIPs = ips[0], ips
	return b
}

func (b svcBuilder) headless() svcBuilder { return b.ips(corev1.ClusterIPNone) }

func (b svcBuilder) port(name string, proto corev1.Protocol, port int32) svcBuilder {
	b.svc.Spec.Ports = append(b.svc.Spec.Ports, corev1.ServicePort{Name: name, Protocol: proto, Port: port})
	return b
}

func (b svcBuilder) external(target string) svcBuilder {
	b.svc.Spec.Type, b.svc.Spec.ExternalName = corev1.ServiceTypeExternalName, target
	return b
}

func (b svcBuilder) publishNotReady() svcBuilder {
	b.svc.Spec.PublishNotReadyAddresses = true
	return b
}

func (b svcBuilder) obj() *corev1.Service { return b.svc }

// sliceBuilder builds an EndpointSlice of a Service.
type sliceBuilder struct{ es *discoveryv1.EndpointSlice }

func makeSlice(ns, name, service string, family discoveryv1.AddressType) sliceBuilder {
	return sliceBuilder{&discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service, "other": "dropped"}},
		AddressType: family}}
}

func (b sliceBuilder) port(name string, proto corev1.Protocol, port int32) sliceBuilder {
	p := discoveryv1.EndpointPort{Protocol: &proto, Port: &port}
	if name != "" {
		p.Name = &name
	}
	b.es.Ports = append(b.es.Ports, p)
	return b
}

// ep adds an endpoint; ready is "true", "false" or "" (unset), hostname
// may be empty.
func (b sliceBuilder) ep(addr, hostname, ready string) sliceBuilder {
	ep := discoveryv1.Endpoint{Addresses: []string{addr}, NodeName: ptr.To("node-1")}
	if hostname != "" {
		ep.Hostname = &hostname
	}
	if ready != "" {
		ep.Conditions.Ready = ptr.To(ready == "true")
	}
	b.es.Endpoints = append(b.es.Endpoints, ep)
	return b
}

func (b sliceBuilder) obj() *discoveryv1.EndpointSlice { return b.es }

func makeNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func makePod(ns, name string, ips ...string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, ip := range ips {
		pod.Status.PodIPs = append(pod.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	return pod
}

// fixture is the cluster the table tests query.
func fixture() []runtime.Object {
	const ns = "testns"
	objs := []runtime.Object{
		makeNamespace(ns), makeNamespace("empty"),
		makeService(ns, "svc1").ips("10.43.0.11").port("http", corev1.ProtocolTCP, 80).
			port("", corev1.ProtocolTCP, 8080).port("dns", corev1.ProtocolUDP, 53).obj(),
		makeService(ns, "svc6").ips("10.43.0.12", "fd00:43::12").port("http", "", 80).obj(),
		makeService(ns, "pending").port("http", corev1.ProtocolTCP, 80).obj(), // no cluster IP yet
		makeService(ns, "hdls").headless().port("http", corev1.ProtocolTCP, 80).obj(),
		makeSlice(ns, "hdls-v4", "hdls", discoveryv1.AddressTypeIPv4).port("http", corev1.ProtocolTCP, 8080).
			port("", corev1.ProtocolTCP, 9090).port("dns", corev1.ProtocolUDP, 53).
			ep("10.42.0.2", "", "true").ep("10.42.0.3", "web-0", "true").
			ep("10.42.0.4", "web-1", "false").ep("10.42.0.5", "", "").obj(),
		makeSlice(ns, "hdls-v6", "hdls", discoveryv1.AddressTypeIPv6).port("http", corev1.ProtocolTCP, 8080).
			ep("FD00:0042:0::2", "", "true").obj(), // not in canonical form
		// A second slice repeating an endpoint, as while slices are rebalanced.
		makeSlice(ns, "hdls-dup", "hdls", discoveryv1.AddressTypeIPv4).port("http", corev1.ProtocolTCP, 8080).
			ep("10.42.0.3", "web-0", "true").obj(),
		makeService(ns, "hdlsnr").headless().publishNotReady().obj(),
		makeSlice(ns, "hdlsnr-a", "hdlsnr", discoveryv1.AddressTypeIPv4).port("peer", corev1.ProtocolTCP, 2380).
			ep("10.42.1.2", "db-0", "false").obj(),
		makeService(ns, "hdlsempty").headless().port("http", corev1.ProtocolTCP, 80).obj(),
		makeService(ns, "hdlsunready").headless().port("http", corev1.ProtocolTCP, 80).obj(),
		makeSlice(ns, "hdlsunready-a", "hdlsunready", discoveryv1.AddressTypeIPv4).
			ep("10.42.2.2", "", "false").obj(),
		makeService(ns, "ext").external("www.Example.com").obj(),
		makeService(ns, "ext2int").external("svc1.testns.svc.cluster.local").obj(),
		makeService(ns, "ext2hdls").external("hdls.testns.svc.cluster.local.").obj(),
		makeService(ns, "loop").external("loop.testns.svc.cluster.local").obj(),
		makeService(ns, "ext2none").external("nothing.testns.svc.cluster.local").obj(),
		// A clusterIP Service's endpoints have names too.
		makeSlice(ns, "svc1-a", "svc1", discoveryv1.AddressTypeIPv4).port("http", corev1.ProtocolTCP, 8080).
			ep("10.42.0.7", "", "true").obj(),
		makeSlice(ns, "orphan", "gone", discoveryv1.AddressTypeIPv4).ep("10.42.0.8", "", "true").obj(),
		makePod(ns, "pod-a", "10.42.0.9", "fd00:42::9"),
	}
	return objs
}

// newTestServer returns a server over a static store of objs; it does not
// listen, the tests call answer.
func newTestServer(t testing.TB, objs []runtime.Object, mutate ...func(*Options)) *Server {
	t.Helper()
	store, err := NewStore(objs...)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Store: store, Addresses: []string{"10.43.0.10:53"}, DisableForwarding: true}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ask returns the server's response to one question as a UDP client
// with EDNS (4096 bytes) would get it.
func ask(ctx context.Context, s *Server, name string, qtype uint16) *dns.Msg {
	req := new(dns.Msg).SetQuestion(name, qtype)
	req.SetEdns0(4096, false)
	resp := s.answer(ctx, req, false)
	finish(req, resp, false)
	return resp
}

// rrs spells records one per line with single spaces, sorted, without
// OPT, so that tests compare them with cmp.Diff.
func rrs(list []dns.RR) []string {
	var out []string
	for _, rr := range list {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	slices.Sort(out)
	return out
}
