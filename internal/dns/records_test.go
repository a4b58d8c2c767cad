package dns

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

const soaLine = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. %d 7200 1800 86400 5"

type recordCase struct {
	name   string
	qtype  uint16
	rcode  int
	answer []string
	extra  []string
	// negative answers carry the zone's SOA, others no authority.
	negative bool
}

func TestRecords(t *testing.T) {
	const z = ".testns.svc.cluster.local."
	cases := []recordCase{
		// ClusterIP Services.
		{name: "svc1" + z, qtype: dns.TypeA, answer: []string{"svc1" + z + " 5 IN A 10.43.0.11"}},
		{name: "SVC1.TestNS.svc.Cluster.LOCAL.", qtype: dns.TypeA, answer: []string{"SVC1.TestNS.svc.Cluster.LOCAL. 5 IN A 10.43.0.11"}},
		{name: "svc1" + z, qtype: dns.TypeAAAA, negative: true},
		{name: "svc1" + z, qtype: dns.TypeTXT, negative: true},
		{name: "svc1" + z, qtype: dns.TypeSOA, negative: true},
		{name: "svc6" + z, qtype: dns.TypeA, answer: []string{"svc6" + z + " 5 IN A 10.43.0.12"}},
		{name: "svc6" + z, qtype: dns.TypeAAAA, answer: []string{"svc6" + z + " 5 IN AAAA fd00:43::12"}},
		{name: "svc6" + z, qtype: dns.TypeANY, answer: []string{"svc6" + z + " 5 IN A 10.43.0.12", "svc6" + z + " 5 IN AAAA fd00:43::12"}},
		{name: "pending" + z, qtype: dns.TypeA, negative: true},
		{name: "nosuch" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "svc1.nosuchns.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "x.svc1" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "a.b.c.svc1" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},

		// SRV records of ClusterIP Services: named ports only, the plain
		// name has one per port.
		{name: "_http._tcp.svc1" + z, qtype: dns.TypeSRV,
			answer: []string{"_http._tcp.svc1" + z + " 5 IN SRV 0 100 80 svc1" + z},
			extra:  []string{"svc1" + z + " 5 IN A 10.43.0.11"}},
		{name: "_HTTP._TCP.svc1" + z, qtype: dns.TypeSRV,
			answer: []string{"_HTTP._TCP.svc1" + z + " 5 IN SRV 0 100 80 svc1" + z},
			extra:  []string{"svc1" + z + " 5 IN A 10.43.0.11"}},
		{name: "_dns._udp.svc1" + z, qtype: dns.TypeSRV,
			answer: []string{"_dns._udp.svc1" + z + " 5 IN SRV 0 100 53 svc1" + z},
			extra:  []string{"svc1" + z + " 5 IN A 10.43.0.11"}},
		{name: "_http._tcp.svc6" + z, qtype: dns.TypeSRV,
			answer: []string{"_http._tcp.svc6" + z + " 5 IN SRV 0 100 80 svc6" + z},
			extra:  []string{"svc6" + z + " 5 IN A 10.43.0.12", "svc6" + z + " 5 IN AAAA fd00:43::12"}},
		{name: "_http._tcp.svc1" + z, qtype: dns.TypeA, negative: true},
		{name: "_dns._tcp.svc1" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, negative: true},
		{name: "_nope._tcp.svc1" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, negative: true},
		{name: "_._tcp.svc1" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, negative: true},
		{name: "_tcp.svc1" + z, qtype: dns.TypeSRV, negative: true},
		{name: "_sctp.svc1" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, negative: true},
		{name: "svc1" + z, qtype: dns.TypeSRV,
			answer: []string{"svc1" + z + " 5 IN SRV 0 33 80 svc1" + z, "svc1" + z + " 5 IN SRV 0 33 8080 svc1" + z,
				"svc1" + z + " 5 IN SRV 0 33 53 svc1" + z},
			extra: []string{"svc1" + z + " 5 IN A 10.43.0.11"}},

		// Endpoint names of a ClusterIP Service.
		{name: "10-42-0-7.svc1" + z, qtype: dns.TypeA, answer: []string{"10-42-0-7.svc1" + z + " 5 IN A 10.42.0.7"}},

		// Headless Services: ready endpoints, or a missing condition.
		{name: "hdls" + z, qtype: dns.TypeA, answer: []string{
			"hdls" + z + " 5 IN A 10.42.0.2", "hdls" + z + " 5 IN A 10.42.0.3", "hdls" + z + " 5 IN A 10.42.0.5"}},
		{name: "hdls" + z, qtype: dns.TypeAAAA, answer: []string{"hdls" + z + " 5 IN AAAA fd00:42::2"}},
		{name: "hdls" + z, qtype: dns.TypeTXT, negative: true},
		{name: "web-0.hdls" + z, qtype: dns.TypeA, answer: []string{"web-0.hdls" + z + " 5 IN A 10.42.0.3"}},
		{name: "web-0.hdls" + z, qtype: dns.TypeAAAA, negative: true},
		{name: "web-1.hdls" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true}, // not ready
		{name: "10-42-0-2.hdls" + z, qtype: dns.TypeA, answer: []string{"10-42-0-2.hdls" + z + " 5 IN A 10.42.0.2"}},
		{name: "10-42-0-3.hdls" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true}, // named web-0
		{name: "fd00-42--2.hdls" + z, qtype: dns.TypeAAAA, answer: []string{"fd00-42--2.hdls" + z + " 5 IN AAAA fd00:42::2"}},
		{name: "_http._tcp.hdls" + z, qtype: dns.TypeSRV,
			answer: []string{
				"_http._tcp.hdls" + z + " 5 IN SRV 0 25 8080 10-42-0-2.hdls" + z,
				"_http._tcp.hdls" + z + " 5 IN SRV 0 25 8080 10-42-0-5.hdls" + z,
				"_http._tcp.hdls" + z + " 5 IN SRV 0 25 8080 fd00-42--2.hdls" + z,
				"_http._tcp.hdls" + z + " 5 IN SRV 0 25 8080 web-0.hdls" + z,
			},
			extra: []string{
				"10-42-0-2.hdls" + z + " 5 IN A 10.42.0.2",
				"10-42-0-5.hdls" + z + " 5 IN A 10.42.0.5",
				"fd00-42--2.hdls" + z + " 5 IN AAAA fd00:42::2",
				"web-0.hdls" + z + " 5 IN A 10.42.0.3",
			}},
		{name: "_dns._udp.hdls" + z, qtype: dns.TypeSRV,
			answer: []string{
				"_dns._udp.hdls" + z + " 5 IN SRV 0 33 53 10-42-0-2.hdls" + z,
				"_dns._udp.hdls" + z + " 5 IN SRV 0 33 53 10-42-0-5.hdls" + z,
				"_dns._udp.hdls" + z + " 5 IN SRV 0 33 53 web-0.hdls" + z,
			},
			extra: []string{
				"10-42-0-2.hdls" + z + " 5 IN A 10.42.0.2",
				"10-42-0-5.hdls" + z + " 5 IN A 10.42.0.5",
				"web-0.hdls" + z + " 5 IN A 10.42.0.3",
			}},
		{name: "_https._tcp.hdls" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, negative: true},
		{name: "db-0.hdlsnr" + z, qtype: dns.TypeA, answer: []string{"db-0.hdlsnr" + z + " 5 IN A 10.42.1.2"}},
		{name: "_peer._tcp.hdlsnr" + z, qtype: dns.TypeSRV,
			answer: []string{"_peer._tcp.hdlsnr" + z + " 5 IN SRV 0 100 2380 db-0.hdlsnr" + z},
			extra:  []string{"db-0.hdlsnr" + z + " 5 IN A 10.42.1.2"}},
		{name: "hdlsempty" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "_tcp.hdlsempty" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "_tcp.hdls" + z, qtype: dns.TypeA, negative: true},
		{name: "hdlsunready" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},

		// ExternalName Services.
		{name: "ext" + z, qtype: dns.TypeCNAME, answer: []string{"ext" + z + " 5 IN CNAME www.example.com."}},
		{name: "ext" + z, qtype: dns.TypeA, answer: []string{"ext" + z + " 5 IN CNAME www.example.com."}},
		{name: "x.ext" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "ext2int" + z, qtype: dns.TypeA, answer: []string{
			"ext2int" + z + " 5 IN CNAME svc1" + z, "svc1" + z + " 5 IN A 10.43.0.11"}},
		{name: "ext2int" + z, qtype: dns.TypeAAAA, answer: []string{"ext2int" + z + " 5 IN CNAME svc1" + z}},
		{name: "ext2hdls" + z, qtype: dns.TypeAAAA, answer: []string{
			"ext2hdls" + z + " 5 IN CNAME hdls" + z, "hdls" + z + " 5 IN AAAA fd00:42::2"}},
		{name: "ext2none" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true,
			answer: []string{"ext2none" + z + " 5 IN CNAME nothing" + z}},
		{name: "loop" + z, qtype: dns.TypeA, answer: []string{"loop" + z + " 5 IN CNAME loop" + z}},

		// Namespaces and the other names of the zone.
		{name: "testns.svc.cluster.local.", qtype: dns.TypeA, negative: true},
		{name: "empty.svc.cluster.local.", qtype: dns.TypeA, negative: true},
		{name: "nosuchns.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "svc.cluster.local.", qtype: dns.TypeNS, negative: true},
		{name: "pod.cluster.local.", qtype: dns.TypeA, negative: true},
		{name: "foo.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "cluster.local.", qtype: dns.TypeA, negative: true},
		{name: "cluster.local.", qtype: dns.TypeNS, answer: []string{"cluster.local. 5 IN NS ns.dns.cluster.local."},
			extra: []string{"ns.dns.cluster.local. 5 IN A 10.43.0.10"}},
		{name: "ns.dns.cluster.local.", qtype: dns.TypeA, answer: []string{"ns.dns.cluster.local. 5 IN A 10.43.0.10"}},
		{name: "dns-version.cluster.local.", qtype: dns.TypeTXT, answer: []string{`dns-version.cluster.local. 5 IN TXT "1.1.0"`}},

		// Pods (insecure: any address in an existing namespace).
		{name: "10-42-0-9.testns.pod.cluster.local.", qtype: dns.TypeA,
			answer: []string{"10-42-0-9.testns.pod.cluster.local. 5 IN A 10.42.0.9"}},
		{name: "1-2-3-4.testns.pod.cluster.local.", qtype: dns.TypeA,
			answer: []string{"1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4"}},
		{name: "fd00-42--9.testns.pod.cluster.local.", qtype: dns.TypeAAAA,
			answer: []string{"fd00-42--9.testns.pod.cluster.local. 5 IN AAAA fd00:42::9"}},
		{name: "10-42-0-9.testns.pod.cluster.local.", qtype: dns.TypeAAAA, negative: true},
		{name: "10-42-0-9.nosuchns.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "10-42-0-256.testns.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "pod-a.testns.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "testns.pod.cluster.local.", qtype: dns.TypeA, negative: true},

		// Reverse names: cluster IPs and published endpoints.
		{name: "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.0.d.f.ip6.arpa.", qtype: dns.TypePTR,
			answer: []string{"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.0.d.f.ip6.arpa. 5 IN PTR fd00-42--2.hdls" + z}},
		{name: "11.0.43.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"11.0.43.10.in-addr.arpa. 5 IN PTR svc1" + z}},
		{name: "2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa.", qtype: dns.TypePTR,
			answer: []string{"2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa. 5 IN PTR svc6" + z}},
		{name: "3.0.42.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"3.0.42.10.in-addr.arpa. 5 IN PTR web-0.hdls" + z}},
		{name: "2.0.42.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"2.0.42.10.in-addr.arpa. 5 IN PTR 10-42-0-2.hdls" + z}},
		{name: "7.0.42.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"7.0.42.10.in-addr.arpa. 5 IN PTR 10-42-0-7.svc1" + z}},
		{name: "2.1.42.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"2.1.42.10.in-addr.arpa. 5 IN PTR db-0.hdlsnr" + z}},
	}
	s := newTestServer(t, fixture())
	runRecordCases(t, s, cases, "cluster.local.")
	// Negative reverse answers, without upstreams, carry the reverse zone's SOA.
	notHeld := []recordCase{
		{name: "11.0.43.10.in-addr.arpa.", qtype: dns.TypeA, negative: true},                             // NODATA
		{name: "4.0.42.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, negative: true}, // not ready
		{name: "8.0.42.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, negative: true}, // no Service
		{name: "99.0.43.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, negative: true},
		{name: "10.in-addr.arpa.", qtype: dns.TypePTR, negative: true},
	}
	runRecordCases(t, s, notHeld, "in-addr.arpa.")
}

func TestPodModes(t *testing.T) {
	verified := newTestServer(t, fixture(), func(o *Options) { o.Pods = PodsVerified })
	runRecordCases(t, verified, []recordCase{
		{name: "10-42-0-9.testns.pod.cluster.local.", qtype: dns.TypeA,
			answer: []string{"10-42-0-9.testns.pod.cluster.local. 5 IN A 10.42.0.9"}},
		{name: "fd00-42--9.testns.pod.cluster.local.", qtype: dns.TypeAAAA,
			answer: []string{"fd00-42--9.testns.pod.cluster.local. 5 IN AAAA fd00:42::9"}},
		{name: "1-2-3-4.testns.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
		{name: "10-42-0-9.empty.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
	}, "cluster.local.")
	disabled := newTestServer(t, fixture(), func(o *Options) { o.Pods = PodsDisabled })
	runRecordCases(t, disabled, []recordCase{
		{name: "10-42-0-9.testns.pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, negative: true},
	}, "cluster.local.")
}

func TestOtherDomainAndTTL(t *testing.T) {
	s := newTestServer(t, fixture(), func(o *Options) { o.Domain = "Tug.Example."; o.TTL = 30 * time.Second })
	runRecordCases(t, s, []recordCase{
		{name: "svc1.testns.svc.tug.example.", qtype: dns.TypeA, answer: []string{"svc1.testns.svc.tug.example. 30 IN A 10.43.0.11"}},
		{name: "svc1.testns.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
	}, "")
}

func runRecordCases(t *testing.T, s *Server, cases []recordCase, soaZone string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.qtype]+" "+tc.name, func(t *testing.T) {
			resp := ask(t.Context(), s, tc.name, tc.qtype)
			if resp.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			if diff := cmp.Diff(rrsOrNil(t, tc.answer), rrs(resp.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rrsOrNil(t, tc.extra), rrs(resp.Extra)); diff != "" {
				t.Errorf("extra (-want +got):\n%s", diff)
			}
			var wantNs []string
			if tc.negative {
				line := soaLine
				if soaZone != "cluster.local." {
					line = soaZone + " 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. %d 7200 1800 86400 5"
				}
				wantNs = []string{fmt.Sprintf(line, s.zone.store.Serial())}
			}
			if diff := cmp.Diff(wantNs, rrs(resp.Ns)); diff != "" {
				t.Errorf("authority (-want +got):\n%s", diff)
			}
			if tc.rcode != dns.RcodeRefused && !resp.Authoritative {
				t.Error("answer not authoritative")
			}
			if _, err := resp.Pack(); err != nil {
				t.Errorf("pack: %v", err)
			}
		})
	}
}

// rrsOrNil normalizes expected record lines as rrs does.
func rrsOrNil(t *testing.T, lines []string) []string {
	t.Helper()
	if len(lines) == 0 {
		return nil
	}
	var list []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad test record %q: %v", l, err)
		}
		list = append(list, rr)
	}
	return rrs(list)
}

// BenchmarkAnswer measures answering without the network.
func BenchmarkAnswer(b *testing.B) {
	s := newTestServer(b, fixture())
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"svc1.testns.svc.cluster.local.", dns.TypeA},
		{"hdls.testns.svc.cluster.local.", dns.TypeA},
		{"web-0.hdls.testns.svc.cluster.local.", dns.TypeA},
		{"_http._tcp.hdls.testns.svc.cluster.local.", dns.TypeSRV},
		{"nosuch.testns.svc.cluster.local.", dns.TypeA},
	} {
		b.Run(dns.TypeToString[q.qtype]+" "+q.name, func(b *testing.B) {
			req := new(dns.Msg).SetQuestion(q.name, q.qtype)
			req.SetEdns0(1232, false)
			b.ReportAllocs()
			for b.Loop() {
				resp := s.answer(b.Context(), req, false)
				finish(req, resp, false)
				if _, err := resp.Pack(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
