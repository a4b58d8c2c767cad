package nft

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUsableEndpoints(t *testing.T) {
	ep := func(addr string, ready, serving, terminating bool, node string) Endpoint {
		return Endpoint{Addr: netip.MustParseAddr(addr), Port: 80, Ready: ready, Serving: serving, Terminating: terminating, NodeName: node}
	}
	all := func(Endpoint) bool { return true }
	onA := func(e Endpoint) bool { return e.NodeName == "a" }
	for _, c := range []struct {
		name string
		in   []Endpoint
		keep func(Endpoint) bool
		want []Endpoint
	}{
		{"ready ones, sorted, duplicates merged", []Endpoint{
			ep("10.0.0.3", true, true, false, "a"), ep("10.0.0.1", true, true, false, "b"),
			ep("10.0.0.2", false, false, false, "a"), ep("10.0.0.1", true, true, false, "b"),
			ep("10.0.0.4", false, true, true, "a"),
		}, all, []Endpoint{ep("10.0.0.1", true, true, false, "b"), ep("10.0.0.3", true, true, false, "a")}},
		{"serving terminating ones when none is ready", []Endpoint{
			ep("10.0.0.2", false, true, true, "a"), ep("10.0.0.1", false, false, true, "a"),
			ep("10.0.0.3", false, true, false, "a"),
		}, all, []Endpoint{ep("10.0.0.2", false, true, true, "a")}},
		{"the fallback is per selection", []Endpoint{
			ep("10.0.0.1", true, true, false, "b"), ep("10.0.0.2", false, true, true, "a"),
		}, onA, []Endpoint{ep("10.0.0.2", false, true, true, "a")}},
		{"none", []Endpoint{ep("10.0.0.1", false, false, false, "a")}, all, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := usableEndpoints(c.in, c.keep)
			if diff := cmp.Diff(c.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceEqual(t *testing.T) {
	a := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)))
	b := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)))
	if !a.Equal(b) {
		t.Error("equal Services compare unequal")
	}
	b.Ports[0].Endpoints[1].Ready = false
	if a.Equal(b) {
		t.Error("a changed endpoint condition compares equal")
	}
	c := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)))
	c.InternalLocal = true
	if a.Equal(c) || a.Equal(nil) {
		t.Error("a changed policy (or nil) compares equal")
	}
}

func TestMergePrefixes(t *testing.T) {
	in := []netip.Prefix{
		netip.MustParsePrefix("10.42.7.0/24"), netip.MustParsePrefix("10.42.0.1/16"),
		netip.MustParsePrefix("192.168.0.0/24"), netip.MustParsePrefix("fd00::/8"),
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("192.168.0.0/24")}
	if got := mergePrefixes(ipv4, in); !cmp.Equal(got, want, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })) {
		t.Errorf("mergePrefixes: %v, want %v", got, want)
	}
	elems := intervalElements([]netip.Prefix{netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("255.0.0.0/8")})
	if len(elems) != 3 || string(elems[1].Key) != string([]byte{10, 43, 0, 0}) || !elems[1].IntervalEnd {
		t.Errorf("interval elements: %+v, want a start and an end past 10.42.255.255, and no end after the last address", elems)
	}
}
