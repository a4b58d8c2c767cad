package simulated

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// errNoFreeIP means a node's pod CIDR has no free address left.
var errNoFreeIP = errors.New("no free pod IP in the node's pod CIDR")

// maxPoolSize bounds a pool's bitmap; an IPv6 /64 has more addresses than
// a node will ever have pods.
const maxPoolSize = 1 << 16

// ipPool hands out the pod addresses of one node's pod CIDR, lowest free
// first, so a freed address is reused. The network address and the one
// after it (the bridge's gateway on a real node) are never handed out,
// nor is an IPv4 broadcast address. Callers serialize access.
type ipPool struct {
	cidr  netip.Prefix
	first netip.Addr // the address of offset 0
	size  int
	used  []uint64
}

func newIPPool(cidr netip.Prefix) (*ipPool, error) {
	cidr = cidr.Masked()
	hostBits := cidr.Addr().BitLen() - cidr.Bits()
	size := maxPoolSize
	if hostBits <= 16 {
		size = 1<<hostBits - 2 // network and gateway
		if cidr.Addr().Is4() {
			size-- // broadcast
		}
	}
	if size < 1 {
		return nil, errors.New("pod CIDR " + cidr.String() + " has no room for pods")
	}
	return &ipPool{cidr: cidr, first: cidr.Addr().Next().Next(), size: size, used: make([]uint64, (size+63)/64)}, nil
}

// allocate marks the lowest free address used and returns its offset.
func (p *ipPool) allocate() (int, error) {
	for w, bits := range p.used {
		if bits == ^uint64(0) {
			continue
		}
		for b := range 64 {
			off := w*64 + b
			if off >= p.size {
				break
			}
			if bits&(1<<b) == 0 {
				p.used[w] |= 1 << b
				return off, nil
			}
		}
	}
	return 0, errNoFreeIP
}

// occupy marks addr used, for a pod that already has it; it reports false
// when addr is not one of the pool's.
func (p *ipPool) occupy(addr netip.Addr) (int, bool) {
	off, ok := p.offset(addr)
	if ok {
		p.used[off/64] |= 1 << (off % 64)
	}
	return off, ok
}

func (p *ipPool) release(off int) { p.used[off/64] &^= 1 << (off % 64) }

// addr is the address at offset off.
func (p *ipPool) addr(off int) netip.Addr {
	b := p.first.As16()
	carry := off
	for i := 15; i >= 0 && carry > 0; i-- {
		sum := int(b[i]) + carry&0xff
		b[i] = byte(sum)
		carry = carry>>8 + sum>>8
	}
	a := netip.AddrFrom16(b)
	if p.first.Is4() {
		return a.Unmap()
	}
	return a
}

// offset is addr's offset in the pool, if it is one of its addresses.
func (p *ipPool) offset(addr netip.Addr) (int, bool) {
	if !p.cidr.Contains(addr) || addr.Less(p.first) {
		return 0, false
	}
	a, f := addr.As16(), p.first.As16()
	// Pools hold at most 2^16 addresses, so the difference fits in the
	// low 4 bytes (with a borrow from the bytes above, which cancels).
	diff := int(uint32(a[12])<<24|uint32(a[13])<<16|uint32(a[14])<<8|uint32(a[15])) -
		int(uint32(f[12])<<24|uint32(f[13])<<16|uint32(f[14])<<8|uint32(f[15]))
	if diff < 0 {
		diff += 1 << 32
	}
	if diff >= p.size {
		return 0, false
	}
	return diff, true
}

// podAddress is a pod's assignment: its address in a node's pool and when
// it started running.
type podAddress struct {
	uid     types.UID
	pool    *ipPool
	off     int32
	started int64 // unix nanoseconds
}

// podIPs tracks every pod's address, per node. It is safe for concurrent
// use by the pod workers.
type podIPs struct {
	mu    sync.Mutex
	pools map[string]*ipPool // node name → pool of its current pod CIDR
	pods  map[string]podAddress
}

func newPodIPs() *podIPs {
	return &podIPs{pools: map[string]*ipPool{}, pods: map[string]podAddress{}}
}

// assign returns the address of pod key (uid) on node with pod CIDR cidr,
// allocating one the first time; started is when the pod first got it.
// Asking again returns the same answer, so a retried status update keeps
// the pod's address.
func (m *podIPs) assign(key string, uid types.UID, node string, cidr netip.Prefix, now time.Time) (netip.Addr, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pool, err := m.poolLocked(node, cidr)
	if err != nil {
		return netip.Addr{}, time.Time{}, err
	}
	if a, ok := m.pods[key]; ok {
		if a.uid == uid && a.pool == pool {
			return pool.addr(int(a.off)), time.Unix(0, a.started), nil
		}
		m.releaseLocked(key)
	}
	off, err := pool.allocate()
	if err != nil {
		return netip.Addr{}, time.Time{}, err
	}
	m.pods[key] = podAddress{uid: uid, pool: pool, off: int32(off), started: now.UnixNano()}
	return pool.addr(off), now, nil
}

// adopt records the address a running pod already has (after an agent
// restart), so it is not handed out twice.
func (m *podIPs) adopt(key string, uid types.UID, node string, cidr netip.Prefix, ip netip.Addr, started time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.pods[key]; ok && a.uid == uid {
		return
	}
	pool, err := m.poolLocked(node, cidr)
	if err != nil {
		return
	}
	if off, ok := pool.occupy(ip); ok {
		m.pods[key] = podAddress{uid: uid, pool: pool, off: int32(off), started: started.UnixNano()}
	}
}

// started is when pod key (uid) started running, as far as this agent
// knows.
func (m *podIPs) started(key string, uid types.UID) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.pods[key]
	if !ok || a.uid != uid {
		return time.Time{}, false
	}
	return time.Unix(0, a.started), true
}

// release frees the address of pod key, if it has one.
func (m *podIPs) release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releaseLocked(key)
}

func (m *podIPs) releaseLocked(key string) {
	if a, ok := m.pods[key]; ok {
		a.pool.release(int(a.off))
		delete(m.pods, key)
	}
}

// len is how many pods hold an address.
func (m *podIPs) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pods)
}

// poolLocked is node's pool for cidr; a node whose pod CIDR changed (it
// was deleted and registered again) starts a new pool, and its pods' old
// addresses go back to the old one.
func (m *podIPs) poolLocked(node string, cidr netip.Prefix) (*ipPool, error) {
	if pool, ok := m.pools[node]; ok && pool.cidr == cidr.Masked() {
		return pool, nil
	}
	pool, err := newIPPool(cidr)
	if err != nil {
		return nil, err
	}
	m.pools[node] = pool
	return pool, nil
}
