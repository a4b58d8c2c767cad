package simulated

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIPPool(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cidr  string
		ops   []string // "alloc", "release N" (an offset), "occupy ADDR"
		want  []string // per op: the address, "full", "ok" or "foreign"
		size  int
		first string
	}{
		{
			name: "IPv4 /24: .2 to .254, freed addresses reused lowest first",
			cidr: "10.42.3.0/24", size: 253, first: "10.42.3.2",
			ops:  []string{"alloc", "alloc", "alloc", "release 0", "alloc", "alloc"},
			want: []string{"10.42.3.2", "10.42.3.3", "10.42.3.4", "ok", "10.42.3.2", "10.42.3.5"},
		},
		{
			name: "IPv4 /30 has one pod address",
			cidr: "10.42.3.4/30", size: 1, first: "10.42.3.6",
			ops:  []string{"alloc", "alloc", "release 0", "alloc"},
			want: []string{"10.42.3.6", "full", "ok", "10.42.3.6"},
		},
		{
			name: "occupied addresses are skipped; foreign ones refused",
			cidr: "10.42.0.0/24", size: 253, first: "10.42.0.2",
			ops:  []string{"occupy 10.42.0.2", "occupy 10.42.0.3", "occupy 10.42.1.2", "occupy 10.42.0.1", "occupy 10.42.0.255", "alloc"},
			want: []string{"ok", "ok", "foreign", "foreign", "foreign", "10.42.0.4"},
		},
		{
			name: "addresses carry across octets",
			cidr: "10.42.0.0/16", size: 65533, first: "10.42.0.2",
			ops:  []string{"occupy 10.42.1.1", "occupy 10.42.255.254"},
			want: []string{"ok", "ok"},
		},
		{
			name: "IPv6 /64 is capped",
			cidr: "fd00:42:0:7::/64", size: maxPoolSize, first: "fd00:42:0:7::2",
			ops:  []string{"alloc", "alloc", "occupy fd00:42:0:7::1:1"},
			want: []string{"fd00:42:0:7::2", "fd00:42:0:7::3", "ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := newIPPool(netip.MustParsePrefix(tc.cidr))
			if err != nil {
				t.Fatal(err)
			}
			if pool.size != tc.size || pool.first.String() != tc.first {
				t.Errorf("pool size %d from %s, want %d from %s", pool.size, pool.first, tc.size, tc.first)
			}
			var got []string
			for _, op := range tc.ops {
				switch {
				case op == "alloc":
					off, err := pool.allocate()
					if err != nil {
						got = append(got, "full")
					} else {
						got = append(got, pool.addr(off).String())
					}
				case op[:7] == "release":
					var off int
					for _, c := range op[8:] {
						off = off*10 + int(c-'0')
					}
					pool.release(off)
					got = append(got, "ok")
				default:
					addr := netip.MustParseAddr(op[7:])
					off, ok := pool.occupy(addr)
					switch {
					case !ok:
						got = append(got, "foreign")
					case pool.addr(off) != addr:
						got = append(got, "offset "+pool.addr(off).String())
					default:
						got = append(got, "ok")
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodIPs(t *testing.T) {
	m := newPodIPs()
	cidr := netip.MustParsePrefix("10.42.0.0/24")
	var got []string
	assign := func(key, uid, node string, cidr netip.Prefix) {
		ip, started, err := m.assign(key, typesUID(uid), node, cidr, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !started.Equal(t0) {
			t.Errorf("started = %v, want %v", started, t0)
		}
		got = append(got, ip.String())
	}
	assign("ns/a", "1", "n0", cidr)
	assign("ns/b", "2", "n0", cidr)
	assign("ns/a", "1", "n0", cidr) // again: the same address
	assign("ns/a", "3", "n0", cidr) // re-created under the same name: a new address, the old one freed
	m.release("ns/b")
	assign("ns/c", "4", "n0", cidr)                                  // reuses b's
	assign("ns/d", "5", "n1", netip.MustParsePrefix("10.42.1.0/24")) // another node, another pool
	assign("ns/d", "5", "n1", netip.MustParsePrefix("10.42.9.0/24")) // the node's CIDR changed
	m.adopt("ns/e", "6", "n0", cidr, netip.MustParseAddr("10.42.0.5"), t0)
	assign("ns/f", "7", "n0", cidr)
	want := []string{"10.42.0.2", "10.42.0.3", "10.42.0.2", "10.42.0.2", "10.42.0.3", "10.42.1.2", "10.42.9.2", "10.42.0.4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if n := m.len(); n != 5 {
		t.Errorf("pods with addresses = %d, want 5 (a, c, d, e, f)", n)
	}
	assign("ns/g", "8", "n0", cidr) // .5 is e's
	if last := got[len(got)-1]; last != "10.42.0.6" {
		t.Errorf("after adopting .5, next address = %s, want 10.42.0.6", last)
	}
}
