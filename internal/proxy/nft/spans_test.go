package nft

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

func TestSpans(t *testing.T) {
	// keys returns n group keys that share a's map.
	keys := func(a string, n int) []string {
		var out []string
		for i := 0; len(out) < n; i++ {
			if k := fmt.Sprint("k", i); shardOf(k) == shardOf(a) {
				out = append(out, k)
			}
		}
		return out
	}
	ks := keys("a", 3)
	s := newSpans()
	a := s.get("a", 2)
	b := s.get(ks[0], 5)
	if a != (span{shardOf("a"), 0, 4}) || b != (span{shardOf("a"), 4, 8}) {
		t.Fatalf("first ranges %v and %v, want [0,4) and [4,12) of map %d", a, b, shardOf("a"))
	}
	s.commit()
	if got := s.get("a", 4); got != a {
		t.Errorf("a with 4 endpoints moved to %v, want it to keep %v", got, a)
	}
	grown := s.get("a", 5)
	if grown.cap != 8 || grown.off == a.off {
		t.Errorf("a grown to 5 got %v, want a new range of 8", grown)
	}
	// a's old range is free only once the transaction applied.
	if c := s.get(ks[1], 3); c.off == a.off {
		t.Errorf("%s got a's old range %v before the commit", ks[1], c)
	}
	s.commit()
	if d := s.get(ks[2], 1); d != a {
		t.Errorf("%s got %v, want a's old range %v after the commit", ks[2], d, a)
	}
	s.release(ks[0])
	s.commit()
	if e := s.get("a2", 8); shardOf("a2") == shardOf("a") && e != b {
		t.Errorf("a2 got %v, want the released range %v", e, b)
	}
}

// endpointElements counts the elements of the service-endpoints maps.
func endpointElements(tab *proxytest.Table) int {
	n := 0
	for name, elems := range tab.Sets {
		if strings.HasPrefix(name, mapServiceEndpoints+"-") {
			n += len(elems)
		}
	}
	return n
}

func TestGroupsGrowAndShrink(t *testing.T) {
	e := newEnv(t, 2, nil)
	eps := func(n int) []Endpoint {
		out := []Endpoint{backend(0), backend(1)}
		for i := 2; i < n; i++ {
			// Addresses nobody answers on: these syncs are about the map.
			out = append(out, Endpoint{Addr: netip.AddrFrom4([4]byte{10, 42, 200, byte(i)}), Port: 8080, Ready: true})
		}
		return out
	}
	for _, n := range []int{2, 4, 5, 9, 3, 2} {
		st := state(service("web", "10.43.0.10", Port{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, Endpoints: eps(n)}))
		stats := e.sync(st)
		e.checkMatches(st, stats)
		if got := endpointElements(e.table()); got != n {
			t.Errorf("%d endpoints: the map holds %d elements", n, got)
		}
		if n == 2 {
			got := e.dial(e.topo.Client, "10.43.0.10:80", 20)
			if len(got) != 2 {
				t.Errorf("%d endpoints: answers %v, want both backends", n, got)
			}
		}
		t.Logf("%d endpoints: %+v", n, stats)
	}
}

func TestOneServiceWithManyEndpoints(t *testing.T) {
	// Megabytes of elements in one transaction: the socket buffers are
	// sized by the batch's bytes, not its message count.
	e := newEnv(t, 1, nil)
	var eps []Endpoint
	for i := range 20000 {
		eps = append(eps, Endpoint{Addr: netip.AddrFrom4([4]byte{10, 44, byte(i >> 8), byte(i)}), Port: 8080, Ready: true})
	}
	st := state(service("big", "10.43.0.10", Port{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, Endpoints: eps}))
	stats := e.sync(st)
	e.checkMatches(st, stats)
	if got := endpointElements(e.table()); got != len(eps) {
		t.Errorf("the endpoint maps hold %d elements, want %d", got, len(eps))
	}
}
