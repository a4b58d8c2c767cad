package dns

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestParseDashed(t *testing.T) {
	for label, want := range map[string]string{
		"10-42-0-5":           "10.42.0.5",
		"fd00--5":             "fd00::5",
		"fd00-42-0-0-0-0-0-1": "fd00:42::1",
		"10-42-0":             "",
		"10-42-0-256":         "",
		"010-1-2-3":           "",
		"--ffff-a01-203":      "",
		"--ffff-102-304":      "",
		"fe80--1%eth0":        "",
		"web-0":               "",
		"":                    "",
	} {
		ip, ok := parseDashed(label)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != want {
			t.Errorf("parseDashed(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestParseReverse(t *testing.T) {
	for name, want := range map[string]string{
		"5.0.42.10.in-addr.arpa.":   "10.42.0.5",
		"0.0.0.0.in-addr.arpa.":     "0.0.0.0",
		"5.0.42.10.in-addr.arpa":    "",
		"0.42.10.in-addr.arpa.":     "",
		"05.0.42.10.in-addr.arpa.":  "",
		"256.0.42.10.in-addr.arpa.": "",
		"+5.0.42.10.in-addr.arpa.":  "",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.": "fd00::1",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.":   "",
		"g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.": "",
		"example.com.": "",
	} {
		ip, ok := parseReverse(name)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != want {
			t.Errorf("parseReverse(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzAddressNames checks that the names made of an address parse back to
// it.
func FuzzAddressNames(f *testing.F) {
	f.Add([]byte{10, 42, 0, 5})
	f.Add([]byte{0xfd, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok || ip.Is4In6() {
			return
		}
		if got, ok := parseDashed(dashed(ip)); !ok || got != ip {
			t.Errorf("parseDashed(dashed(%s)) = %s, %v", ip, got, ok)
		}
		name, err := dns.ReverseAddr(ip.String())
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := parseReverse(name); !ok || got != ip {
			t.Errorf("parseReverse(%s) = %s, %v", name, got, ok)
		}
	})
}

// FuzzAnswer feeds the server any message a client could send and checks
// that the answer packs within the size the client allows.
func FuzzAnswer(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"svc1.testns.svc.cluster.local.", dns.TypeA},
		{"_http._tcp.hdls.testns.svc.cluster.local.", dns.TypeSRV},
		{"10-42-0-9.testns.pod.cluster.local.", dns.TypeA},
		{"11.0.43.10.in-addr.arpa.", dns.TypePTR},
		{"ext2int.testns.svc.cluster.local.", dns.TypeANY},
		{"example.com.", dns.TypeA},
	} {
		m := new(dns.Msg).SetQuestion(q.name, q.qtype)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	s := newTestServer(f, fixture())
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil || req.Response {
			return
		}
		for _, tcp := range []bool{false, true} {
			resp := s.answer(t.Context(), req, tcp)
			finish(req, resp, tcp)
			packed, err := resp.Pack()
			if err != nil {
				t.Fatalf("pack answer to %v: %v", req.Question, err)
			}
			limit := dns.MaxMsgSize
			if !tcp {
				limit = dns.MinMsgSize
				if opt := req.IsEdns0(); opt != nil {
					limit = max(limit, int(opt.UDPSize()))
				}
			}
			if len(packed) > limit {
				t.Fatalf("answer to %v is %d bytes, over %d", req.Question, len(packed), limit)
			}
		}
	})
}
