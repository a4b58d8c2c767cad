package nodeipam

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
)

// ErrExhausted is returned by Allocate when every subnet is in use.
var ErrExhausted = errors.New("cluster CIDR exhausted: no free node CIDR")

// maxSubnets bounds the bitmap: an IPv6 cluster CIDR could otherwise ask
// for more subnets than any cluster has nodes.
const maxSubnets = 1 << 20

// Allocator hands out equal-sized subnets (node CIDRs) of a cluster CIDR.
// It is deterministic: Allocate returns the first free subnet at or after
// the one following the last allocation, wrapping around, so a freed CIDR
// is reused only after the others have been handed out (a stale route to
// a deleted node's CIDR has time to go). It is not safe for concurrent use.
type Allocator struct {
	cluster  netip.Prefix
	nodeBits int // prefix length of each subnet
	count    int
	used     []uint64
	inUse    int
	next     int
}

// NewAllocator returns an allocator of the /nodeBits subnets of cluster.
func NewAllocator(cluster netip.Prefix, nodeBits int) (*Allocator, error) {
	if !cluster.IsValid() || cluster != cluster.Masked() {
		return nil, fmt.Errorf("cluster CIDR %s is not a network address with its prefix length", cluster)
	}
	if nodeBits < cluster.Bits() || nodeBits > cluster.Addr().BitLen() {
		return nil, fmt.Errorf("node CIDR size /%d does not fit in cluster CIDR %s", nodeBits, cluster)
	}
	count := maxSubnets
	if diff := nodeBits - cluster.Bits(); diff < 20 {
		count = 1 << diff
	}
	return &Allocator{cluster: cluster, nodeBits: nodeBits, count: count, used: make([]uint64, (count+63)/64)}, nil
}

// Size is how many subnets the allocator manages.
func (a *Allocator) Size() int { return a.count }

// Free is how many subnets are not in use.
func (a *Allocator) Free() int { return a.count - a.inUse }

// Allocate marks the next free subnet used and returns it.
func (a *Allocator) Allocate() (netip.Prefix, error) {
	if a.inUse == a.count {
		return netip.Prefix{}, ErrExhausted
	}
	for n := range a.count {
		i := (a.next + n) % a.count
		if !a.isUsed(i) {
			a.set(i, true)
			a.next = (i + 1) % a.count
			return a.subnet(i), nil
		}
	}
	return netip.Prefix{}, ErrExhausted // unreachable while inUse is right
}

// Occupy marks p used, for a CIDR a node already has. It reports false
// when p was in use already (two nodes claim it).
func (a *Allocator) Occupy(p netip.Prefix) (bool, error) {
	i, err := a.index(p)
	if err != nil {
		return false, err
	}
	if a.isUsed(i) {
		return false, nil
	}
	a.set(i, true)
	return true, nil
}

// Release marks p free again; releasing a free subnet does nothing.
func (a *Allocator) Release(p netip.Prefix) error {
	i, err := a.index(p)
	if err != nil {
		return err
	}
	if a.isUsed(i) {
		a.set(i, false)
	}
	return nil
}

func (a *Allocator) isUsed(i int) bool { return a.used[i/64]&(1<<(i%64)) != 0 }

func (a *Allocator) set(i int, used bool) {
	if used {
		a.used[i/64] |= 1 << (i % 64)
		a.inUse++
	} else {
		a.used[i/64] &^= 1 << (i % 64)
		a.inUse--
	}
}

// subnet is the i-th subnet: the cluster address plus i shifted to the
// subnet's prefix length.
func (a *Allocator) subnet(i int) netip.Prefix {
	hi, lo := split(a.cluster.Addr())
	shift := uint(a.cluster.Addr().BitLen() - a.nodeBits)
	addHi, addLo := shl128(uint64(i), shift)
	lo, carry := bits.Add64(lo, addLo, 0)
	hi, _ = bits.Add64(hi, addHi, carry)
	return netip.PrefixFrom(join(hi, lo, a.cluster.Addr().Is4()), a.nodeBits)
}

// index is the position of p among the subnets, or an error when p is
// not one of them.
func (a *Allocator) index(p netip.Prefix) (int, error) {
	if p.Bits() != a.nodeBits || p.Masked() != p || !a.cluster.Contains(p.Addr()) {
		return 0, fmt.Errorf("%s is not a /%d subnet of cluster CIDR %s", p, a.nodeBits, a.cluster)
	}
	hi, lo := split(p.Addr())
	chi, clo := split(a.cluster.Addr())
	lo, borrow := bits.Sub64(lo, clo, 0)
	hi, _ = bits.Sub64(hi, chi, borrow)
	hi, lo = shr128(hi, lo, uint(p.Addr().BitLen()-a.nodeBits))
	if hi != 0 || lo >= uint64(a.count) {
		return 0, fmt.Errorf("%s is beyond the %d subnets this allocator manages", p, a.count)
	}
	return int(lo), nil
}

// split returns an address as a 128-bit number; IPv4 addresses use the
// low 32 bits.
func split(addr netip.Addr) (hi, lo uint64) {
	if addr.Is4() {
		b := addr.As4()
		return 0, uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	}
	b := addr.As16()
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

func join(hi, lo uint64, is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)})
	}
	var b [16]byte
	for i := range 8 {
		b[7-i] = byte(hi >> (8 * i))
		b[15-i] = byte(lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

func shl128(v uint64, n uint) (hi, lo uint64) {
	switch {
	case n == 0:
		return 0, v
	case n >= 128:
		return 0, 0
	case n >= 64:
		return v << (n - 64), 0
	default:
		return v >> (64 - n), v << n
	}
}

func shr128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n >= 128:
		return 0, 0
	case n >= 64:
		return 0, hi >> (n - 64)
	default:
		return hi >> n, lo>>n | hi<<(64-n)
	}
}
