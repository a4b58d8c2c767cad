package nodeipam

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// step is one allocator operation and what it must return.
type step struct {
	op      string // "alloc", "occupy" or "release"
	cidr    string // argument of occupy and release; result of alloc
	fresh   bool   // occupy's result
	wantErr error  // nil or ErrExhausted
	anyErr  bool   // some error
}

func TestAllocator(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cluster  string
		nodeBits int
		steps    []step
	}{
		{
			name: "sequential /24s", cluster: "10.42.0.0/16", nodeBits: 24,
			steps: []step{
				{op: "alloc", cidr: "10.42.0.0/24"},
				{op: "alloc", cidr: "10.42.1.0/24"},
				{op: "alloc", cidr: "10.42.2.0/24"},
			},
		},
		{
			name: "existing CIDRs are skipped", cluster: "10.42.0.0/16", nodeBits: 24,
			steps: []step{
				{op: "occupy", cidr: "10.42.0.0/24", fresh: true},
				{op: "occupy", cidr: "10.42.2.0/24", fresh: true},
				{op: "occupy", cidr: "10.42.2.0/24", fresh: false},
				{op: "alloc", cidr: "10.42.1.0/24"},
				{op: "alloc", cidr: "10.42.3.0/24"},
			},
		},
		{
			name: "exhaustion, then reuse of a freed CIDR", cluster: "10.42.0.0/23", nodeBits: 24,
			steps: []step{
				{op: "alloc", cidr: "10.42.0.0/24"},
				{op: "alloc", cidr: "10.42.1.0/24"},
				{op: "alloc", wantErr: ErrExhausted},
				{op: "release", cidr: "10.42.0.0/24"},
				{op: "alloc", cidr: "10.42.0.0/24"},
				{op: "alloc", wantErr: ErrExhausted},
			},
		},
		{
			name: "freed CIDRs wait for their turn", cluster: "10.42.0.0/22", nodeBits: 24,
			steps: []step{
				{op: "alloc", cidr: "10.42.0.0/24"},
				{op: "alloc", cidr: "10.42.1.0/24"},
				{op: "release", cidr: "10.42.0.0/24"},
				{op: "alloc", cidr: "10.42.2.0/24"},
				{op: "alloc", cidr: "10.42.3.0/24"},
				{op: "alloc", cidr: "10.42.0.0/24"},
			},
		},
		{
			name: "foreign CIDRs are refused", cluster: "10.42.0.0/16", nodeBits: 24,
			steps: []step{
				{op: "occupy", cidr: "10.43.0.0/24", anyErr: true},
				{op: "occupy", cidr: "10.42.0.0/25", anyErr: true},
				{op: "release", cidr: "192.168.0.0/24", anyErr: true},
				{op: "alloc", cidr: "10.42.0.0/24"},
			},
		},
		{
			name: "IPv6 /64s", cluster: "fd00:42::/56", nodeBits: 64,
			steps: []step{
				{op: "alloc", cidr: "fd00:42::/64"},
				{op: "alloc", cidr: "fd00:42:0:1::/64"},
				{op: "occupy", cidr: "fd00:42:0:ff::/64", fresh: true},
				{op: "release", cidr: "fd00:42::/64"},
				{op: "alloc", cidr: "fd00:42:0:2::/64"},
			},
		},
		{
			name: "a cluster CIDR of one node", cluster: "10.42.7.0/24", nodeBits: 24,
			steps: []step{
				{op: "alloc", cidr: "10.42.7.0/24"},
				{op: "alloc", wantErr: ErrExhausted},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAllocator(netip.MustParsePrefix(tc.cluster), tc.nodeBits)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				var got string
				var fresh bool
				switch s.op {
				case "alloc":
					var p netip.Prefix
					p, err = a.Allocate()
					if err == nil {
						got = p.String()
					}
				case "occupy":
					fresh, err = a.Occupy(netip.MustParsePrefix(s.cidr))
				case "release":
					err = a.Release(netip.MustParsePrefix(s.cidr))
				}
				switch {
				case s.anyErr:
					if err == nil {
						t.Fatalf("step %d %s %s: no error, want one", i, s.op, s.cidr)
					}
					continue
				case s.wantErr != nil && !errors.Is(err, s.wantErr):
					t.Fatalf("step %d %s: error %v, want %v", i, s.op, err, s.wantErr)
				case s.wantErr == nil && err != nil:
					t.Fatalf("step %d %s %s: %v", i, s.op, s.cidr, err)
				}
				if s.op == "alloc" && got != s.cidr {
					t.Errorf("step %d: allocated %q, want %q", i, got, s.cidr)
				}
				if s.op == "occupy" && fresh != s.fresh {
					t.Errorf("step %d: occupy %s fresh = %v, want %v", i, s.cidr, fresh, s.fresh)
				}
			}
		})
	}
}

func TestAllocatorCounts(t *testing.T) {
	a, err := NewAllocator(netip.MustParsePrefix("10.42.0.0/16"), 24)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := a.Allocate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Release(netip.MustParsePrefix("10.42.3.0/24")); err != nil {
		t.Fatal(err)
	}
	// Releasing twice frees once.
	if err := a.Release(netip.MustParsePrefix("10.42.3.0/24")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([2]int{256, 247}, [2]int{a.Size(), a.Free()}); diff != "" {
		t.Errorf("size, free (-want +got):\n%s", diff)
	}
}

func TestParseClusterCIDR(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{
		{in: "10.42.0.0/16"},
		{in: "10.42.0.0/24"},
		{in: "fd00::/48"},
		{in: "10.42.0.1/16", wantErr: true}, // not the network address
		{in: "10.42.0.0/25", wantErr: true}, // smaller than one node's /24
		{in: "fd00::/96", wantErr: true},
		{in: "10.42.0.0", wantErr: true},
		{in: "", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseClusterCIDR(tc.in)
			if (err != nil) != tc.wantErr {
				t.Errorf("ParseClusterCIDR(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
		})
	}
}
