package dns

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// running is a server serving on loopback sockets.
type running struct {
	udp, tcp string
}

// start runs a server on 127.0.0.1 with random ports until the test ends,
// and checks that Run then returns without error.
func start(t *testing.T, opts Options) running {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.PacketConns, opts.Listeners = []net.PacketConn{pc}, []net.Listener{l}
	s, err := New(opts)
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
	return running{udp: pc.LocalAddr().String(), tcp: l.Addr().String()}
}

// query sends one question over UDP (with EDNS when ednsSize > 0) or TCP.
func query(t *testing.T, addr, network, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return resp
}

// summary spells a response as its rcode and sorted answer records.
func summary(resp *dns.Msg) string {
	return dns.RcodeToString[resp.Rcode] + " " + strings.Join(rrs(resp.Answer), " | ")
}

// upstream is a fake resolver on 127.0.0.1 that knows a few names.
type upstream struct {
	addr    string
	queries chan string // names asked, with the network
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// TCP on the same port, so that one address serves both.
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: pc.LocalAddr().String(), queries: make(chan string, 100)}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		u.queries <- w.LocalAddr().Network() + " " + q.Name
		resp := new(dns.Msg).SetReply(req)
		resp.RecursionAvailable = true
		switch {
		case q.Name == "www.example.com." && q.Qtype == dns.TypeA:
			resp.Answer = append(resp.Answer, mustRR(t, "www.example.com. 300 IN A 192.0.2.10"))
		case q.Name == "big.example.com." && q.Qtype == dns.TypeTXT:
			for i := range 40 {
				resp.Answer = append(resp.Answer, mustRR(t, fmt.Sprintf(`big.example.com. 300 IN TXT "record %02d of a long answer"`, i)))
			}
		case q.Name == "www.example.com.", q.Name == "big.example.com.":
		default:
			resp.Rcode = dns.RcodeNameError
		}
		if w.LocalAddr().Network() == "udp" {
			resp.Truncate(dns.MinMsgSize)
		}
		_ = w.WriteMsg(resp)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown(); <-done })
	}
	return u
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// closedPort returns a loopback UDP address nothing listens on: queries
// to it fail at once with an ICMP port unreachable.
func closedPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestForward(t *testing.T) {
	up := startUpstream(t)
	store, err := NewStore(fixture()...)
	if err != nil {
		t.Fatal(err)
	}
	// The first upstream is down: the server moves on to the second.
	srv := start(t, Options{Store: store, Upstreams: []string{closedPort(t), up.addr}})
	const z = ".testns.svc.cluster.local."
	for _, tc := range []struct {
		network, name string
		qtype         uint16
		edns          uint16
		want          string
		tc            bool
	}{
		{network: "udp", name: "www.example.com.", qtype: dns.TypeA, want: "NOERROR www.example.com. 300 IN A 192.0.2.10"},
		{network: "tcp", name: "www.example.com.", qtype: dns.TypeA, want: "NOERROR www.example.com. 300 IN A 192.0.2.10"},
		{network: "udp", name: "www.example.com.", qtype: dns.TypeAAAA, want: "NOERROR "},
		{network: "udp", name: "nosuch.example.com.", qtype: dns.TypeA, want: "NXDOMAIN "},
		// The upstream truncates over UDP: so does the server, and the
		// client retries over TCP, which the server forwards over TCP.
		{network: "udp", name: "big.example.com.", qtype: dns.TypeTXT, edns: 4096, tc: true},
		{network: "tcp", name: "big.example.com.", qtype: dns.TypeTXT},
		// An ExternalName Service outside the domain is chased upstream.
		{network: "udp", name: "ext" + z, qtype: dns.TypeA, want: "NOERROR ext" + z + " 5 IN CNAME www.example.com. | www.example.com. 300 IN A 192.0.2.10"},
		// The cluster's names are not forwarded; unknown reverse names are.
		{network: "udp", name: "nosuch" + z, qtype: dns.TypeA, want: "NXDOMAIN "},
		{network: "udp", name: "11.0.43.10.in-addr.arpa.", qtype: dns.TypePTR, want: "NOERROR 11.0.43.10.in-addr.arpa. 5 IN PTR svc1" + z},
		{network: "udp", name: "99.0.43.10.in-addr.arpa.", qtype: dns.TypePTR, want: "NXDOMAIN "},
	} {
		addr := srv.udp
		if tc.network == "tcp" {
			addr = srv.tcp
		}
		resp := query(t, addr, tc.network, tc.name, tc.qtype, tc.edns)
		if resp.Truncated != tc.tc {
			t.Errorf("%s %s: truncated %v, want %v", tc.network, tc.name, resp.Truncated, tc.tc)
		}
		if tc.name == "big.example.com." {
			if n, want := len(resp.Answer), 40; (n == want) == tc.tc {
				t.Errorf("%s %s: %d records (truncated %v)", tc.network, tc.name, n, resp.Truncated)
			}
			continue
		}
		if got := summary(resp); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.network, tc.name, got, tc.want)
		}
	}
	var asked []string
	for len(up.queries) > 0 {
		asked = append(asked, <-up.queries)
	}
	want := []string{"udp www.example.com.", "tcp www.example.com.", "udp www.example.com.", "udp nosuch.example.com.",
		"udp big.example.com.", "tcp big.example.com.", "udp www.example.com.", "udp 99.0.43.10.in-addr.arpa."}
	if diff := cmp.Diff(want, asked); diff != "" {
		t.Errorf("upstream queries (-want +got):\n%s", diff)
	}

	// With every upstream down, the answer is SERVFAIL.
	down := start(t, Options{Store: store, Upstreams: []string{closedPort(t)}})
	if got := summary(query(t, down.udp, "udp", "www.example.com.", dns.TypeA, 0)); got != "SERVFAIL " {
		t.Errorf("all upstreams down: got %q, want SERVFAIL", got)
	}
	// Without forwarding, names outside the domain are refused.
	off := start(t, Options{Store: store, DisableForwarding: true})
	if got := summary(query(t, off.udp, "udp", "www.example.com.", dns.TypeA, 0)); got != "REFUSED " {
		t.Errorf("forwarding off: got %q, want REFUSED", got)
	}
}

// TestTruncation checks that a large answer is cut to the client's UDP
// size with the TC bit, and whole over TCP.
func TestTruncation(t *testing.T) {
	objs := []runtime.Object{makeNamespace("ns"), makeService("ns", "big").headless().port("http", corev1.ProtocolTCP, 80).obj()}
	sb := makeSlice("ns", "big-1", "big", discoveryv1.AddressTypeIPv4).port("http", corev1.ProtocolTCP, 80)
	for i := range 100 {
		sb = sb.ep(fmt.Sprintf("10.42.%d.%d", i/50, i%50+1), fmt.Sprintf("host-%d", i), "true")
	}
	objs = append(objs, sb.obj())
	store, err := NewStore(objs...)
	if err != nil {
		t.Fatal(err)
	}
	srv := start(t, Options{Store: store, DisableForwarding: true})
	for _, tc := range []struct {
		network   string
		qtype     uint16
		edns      uint16
		truncated bool
		maxSize   int
	}{
		{network: "udp", qtype: dns.TypeA, truncated: true, maxSize: 512},
		{network: "udp", qtype: dns.TypeA, edns: 4096, maxSize: 4096},
		{network: "udp", qtype: dns.TypeSRV, edns: 1232, truncated: true, maxSize: 1232},
		{network: "tcp", qtype: dns.TypeSRV, maxSize: 65535},
	} {
		addr := srv.udp
		if tc.network == "tcp" {
			addr = srv.tcp
		}
		name := "big.ns.svc.cluster.local."
		if tc.qtype == dns.TypeSRV {
			name = "_http._tcp." + name
		}
		resp := query(t, addr, tc.network, name, tc.qtype, tc.edns)
		resp.Compress = true // as it came on the wire
		packed, err := resp.Pack()
		if err != nil {
			t.Fatal(err)
		}
		label := fmt.Sprintf("%s %s edns %d", tc.network, dns.TypeToString[tc.qtype], tc.edns)
		if resp.Truncated != tc.truncated || len(packed) > tc.maxSize {
			t.Errorf("%s: truncated %v (want %v), %d bytes (at most %d)", label, resp.Truncated, tc.truncated, len(packed), tc.maxSize)
		}
		if full := len(resp.Answer) == 100; full == tc.truncated {
			t.Errorf("%s: %d answers, truncated %v", label, len(resp.Answer), resp.Truncated)
		}
		if tc.edns > 0 && resp.IsEdns0() == nil {
			t.Errorf("%s: no OPT record in the answer to an EDNS query", label)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	s := newTestServer(t, fixture())
	ctx := t.Context()
	req := new(dns.Msg).SetQuestion("svc1.testns.svc.cluster.local.", dns.TypeA)
	req.SetEdns0(1232, false)
	req.IsEdns0().SetVersion(1)
	resp := s.answer(ctx, req, false)
	finish(req, resp, false)
	if resp.Rcode != dns.RcodeBadVers || resp.IsEdns0() == nil {
		t.Errorf("EDNS version 1: rcode %s, OPT %v; want BADVERS with an OPT", dns.RcodeToString[resp.Rcode], resp.IsEdns0())
	}
	if _, err := resp.Pack(); err != nil {
		t.Errorf("pack BADVERS: %v", err)
	}
	for _, tc := range []struct {
		mutate func(*dns.Msg)
		rcode  int
	}{
		{func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, dns.RcodeNotImplemented},
		{func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, dns.RcodeFormatError},
		{func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR }, dns.RcodeRefused},
		{func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused},
	} {
		req := new(dns.Msg).SetQuestion("svc1.testns.svc.cluster.local.", dns.TypeA)
		tc.mutate(req)
		if resp := s.answer(ctx, req, false); resp.Rcode != tc.rcode || resp.Id != req.Id {
			t.Errorf("%v: rcode %s id %d, want %s id %d", req.Question, dns.RcodeToString[resp.Rcode], resp.Id,
				dns.RcodeToString[tc.rcode], req.Id)
		}
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	resolv := dir + "/resolv.conf"
	writeFile(t, resolv, "# comment\nsearch example.com\nnameserver 127.0.0.53\nnameserver fd00::53\nnameserver bogus\noptions ndots:5\n")
	store, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: store, Addresses: []string{"127.0.0.1:5353"}, ResolvConf: resolv})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"127.0.0.53:53", "[fd00::53]:53"}, s.Upstreams()); diff != "" {
		t.Errorf("upstreams from resolv.conf (-want +got):\n%s", diff)
	}
	// The server's own address is not an upstream.
	s, err = New(Options{Store: store, Addresses: []string{"127.0.0.1:5353"}, Upstreams: []string{"127.0.0.1:5353", "127.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"127.0.0.2:53"}, s.Upstreams()); diff != "" {
		t.Errorf("upstreams (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no store", Options{Addresses: []string{"127.0.0.1:53"}, DisableForwarding: true}},
		{"no address", Options{Store: store, DisableForwarding: true}},
		{"bad address", Options{Store: store, Addresses: []string{"localhost:53"}, DisableForwarding: true}},
		{"bad upstream", Options{Store: store, Addresses: []string{"127.0.0.1:53"}, Upstreams: []string{"dns.example"}}},
		{"bad domain", Options{Store: store, Addresses: []string{"127.0.0.1:53"}, DisableForwarding: true, Domain: "a_b"}},
		{"bad pods", Options{Store: store, Addresses: []string{"127.0.0.1:53"}, DisableForwarding: true, Pods: "all"}},
		{"short TTL", Options{Store: store, Addresses: []string{"127.0.0.1:53"}, DisableForwarding: true, TTL: time.Millisecond}},
	} {
		if _, err := New(tc.opts); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.opts)
		}
	}
	if _, err := NewStore(&corev1.ConfigMap{}); err == nil {
		t.Error("NewStore accepted a ConfigMap")
	}
}

// TestRunBindError checks that Run reports an address it cannot bind.
func TestRunBindError(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	store, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: store, Addresses: []string{pc.LocalAddr().String()}, DisableForwarding: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "listen udp") {
		t.Errorf("Run on a taken port: %v, want a listen error", err)
	}
}

// TestSlim checks that the informers keep only what the records need.
func TestSlim(t *testing.T) {
	svc := makeService("ns", "s").ips("10.43.0.5").port("http", corev1.ProtocolTCP, 80).obj()
	svc.Annotations = map[string]string{"a": "b"}
	svc.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "m"}}
	svc.Spec.Selector = map[string]string{"app": "x"}
	svc.Spec.Ports[0].TargetPort = intstr.FromInt32(8080)
	got, err := slimObject(svc)
	if err != nil {
		t.Fatal(err)
	}
	want := makeService("ns", "s").ips("10.43.0.5").port("http", corev1.ProtocolTCP, 80).obj()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slim Service (-want +got):\n%s", diff)
	}
	es := makeSlice("ns", "s-1", "s", discoveryv1.AddressTypeIPv4).port("http", corev1.ProtocolTCP, 80).ep("10.42.0.1", "h", "true").obj()
	gotES, err := slimObject(es)
	if err != nil {
		t.Fatal(err)
	}
	slim := gotES.(*discoveryv1.EndpointSlice)
	if slim.Endpoints[0].NodeName != nil || len(slim.Labels) != 1 || *slim.Endpoints[0].Hostname != "h" {
		t.Errorf("slim EndpointSlice kept %+v", slim)
	}
	if other, _ := slimObject("x"); other != "x" {
		t.Errorf("slimObject changed a value it does not know: %v", other)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
