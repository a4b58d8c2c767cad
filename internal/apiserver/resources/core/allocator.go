package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Allocation errors; field errors carry their text to the client.
var (
	errAllocated  = errors.New("provided IP is already allocated")
	errPortTaken  = errors.New("provided port is already allocated")
	errRangeFull  = errors.New("range is full")
	errOutOfRange = errors.New("out of range")
)

// Services whose cluster IP is fixed: the API server's own service always
// gets the first address, and the cluster DNS service the tenth when it asks
// for it. Nobody else may take either.
const (
	kubernetesService = "default/kubernetes"
	dnsService        = "kube-system/kube-dns"
	kubernetesOffset  = 1
	dnsOffset         = 10
)

// Allocator hands out service cluster IPs from the service CIDR and node
// ports from the node-port range. It is safe for concurrent use.
//
// Every allocation belongs to one service ("namespace/name"), and asking
// again for what a service already holds succeeds: a write that is retried
// does not fail on its own earlier allocation.
type Allocator struct {
	mu       sync.Mutex
	cidr     netip.Prefix
	ips      pool
	ports    pool
	portBase int
}

// NewAllocator returns an empty allocator over cidr and ports. The CIDR
// must leave between 2 and 20 host bits.
func NewAllocator(cidr netip.Prefix, ports utilnet.PortRange) (*Allocator, error) {
	hostBits := cidr.Addr().BitLen() - cidr.Bits()
	if !cidr.IsValid() || hostBits < 2 || hostBits > 20 {
		return nil, fmt.Errorf("service CIDR %s: must be a valid prefix with 2 to 20 host bits", cidr)
	}
	if ports.Size < 1 || ports.Base < 1 || ports.Base+ports.Size-1 > 65535 {
		return nil, fmt.Errorf("node port range %q: must be within 1-65535", ports.String())
	}
	a := &Allocator{cidr: cidr.Masked(), portBase: ports.Base}
	a.ips = pool{size: 1 << hostBits, reserved: map[int]string{0: ""}}
	if cidr.Addr().Is4() {
		a.ips.reserved[a.ips.size-1] = "" // broadcast
	}
	a.ips.reserved[kubernetesOffset] = kubernetesService
	if dnsOffset < a.ips.size-1 {
		a.ips.reserved[dnsOffset] = dnsService
	}
	a.ports = pool{size: ports.Size}
	a.ips.reset()
	a.ports.reset()
	return a, nil
}

// CIDR returns the range cluster IPs come from.
func (a *Allocator) CIDR() netip.Prefix { return a.cidr }

// Sync forgets every allocation and records those of existing, the
// services in storage. The server calls it at start, before serving. It
// returns an error naming the conflicts it found (two services holding one
// address, addresses outside the ranges); the other holdings are recorded.
func (a *Allocator) Sync(existing []corev1.Service) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ips.reset()
	a.ports.reset()
	var errs []error
	for i := range existing {
		svc := &existing[i]
		owner := serviceKey(svc)
		for _, ip := range heldIPs(svc) {
			if _, err := a.takeIP(ip, owner, true); err != nil {
				errs = append(errs, fmt.Errorf("service %s: cluster IP %s: %w", owner, ip, err))
			}
		}
		for _, port := range heldPorts(svc) {
			if _, err := a.takePort(port, owner, true); err != nil {
				errs = append(errs, fmt.Errorf("service %s: node port %d: %w", owner, port, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Release frees what svc holds.
func (a *Allocator) Release(svc *corev1.Service) { a.releaseExcept(svc, nil) }

// releaseExcept frees what svc holds and keep (which may be nil) does not.
func (a *Allocator) releaseExcept(svc, keep *corev1.Service) {
	a.mu.Lock()
	defer a.mu.Unlock()
	owner := serviceKey(svc)
	keepIPs, keepPorts := map[netip.Addr]bool{}, map[int]bool{}
	if keep != nil && serviceKey(keep) == owner {
		for _, ip := range heldIPs(keep) {
			keepIPs[ip] = true
		}
		for _, p := range heldPorts(keep) {
			keepPorts[p] = true
		}
	}
	for _, ip := range heldIPs(svc) {
		if off, ok := a.ipOffset(ip); ok && !keepIPs[ip] {
			a.ips.release(off, owner)
		}
	}
	for _, p := range heldPorts(svc) {
		if off := p - a.portBase; off >= 0 && off < a.ports.size && !keepPorts[p] {
			a.ports.release(off, owner)
		}
	}
}

// Free returns how many cluster IPs and node ports are left.
func (a *Allocator) Free() (ips, ports int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ips.free(), a.ports.free()
}

// takeIP gives ip to owner. It reports whether the address is newly
// taken (false when owner already held it). force ignores reservations.
func (a *Allocator) takeIP(ip netip.Addr, owner string, force bool) (bool, error) {
	off, ok := a.ipOffset(ip)
	if !ok {
		return false, errOutOfRange
	}
	return a.ips.take(off, owner, force, errAllocated)
}

// nextIP gives owner a free address.
func (a *Allocator) nextIP(owner string) (netip.Addr, error) {
	if owner == kubernetesService {
		if _, err := a.ips.take(kubernetesOffset, owner, false, errAllocated); err == nil {
			return a.ipAt(kubernetesOffset), nil
		}
	}
	off, err := a.ips.takeNext(owner)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.ipAt(off), nil
}

func (a *Allocator) takePort(port int, owner string, force bool) (bool, error) {
	off := port - a.portBase
	if off < 0 || off >= a.ports.size {
		return false, errOutOfRange
	}
	return a.ports.take(off, owner, force, errPortTaken)
}

func (a *Allocator) nextPort(owner string) (int, error) {
	off, err := a.ports.takeNext(owner)
	return a.portBase + off, err
}

// ipOffset returns ip's index in the CIDR. With at most 20 host bits, the
// index lives in the address's last four bytes.
func (a *Allocator) ipOffset(ip netip.Addr) (int, bool) {
	if !a.cidr.Contains(ip) {
		return 0, false
	}
	b, base := ip.As16(), a.cidr.Addr().As16()
	return int(binary.BigEndian.Uint32(b[12:]) - binary.BigEndian.Uint32(base[12:])), true
}

func (a *Allocator) ipAt(off int) netip.Addr {
	b := a.cidr.Addr().As16()
	binary.BigEndian.PutUint32(b[12:], binary.BigEndian.Uint32(b[12:])+uint32(off))
	ip := netip.AddrFrom16(b)
	if a.cidr.Addr().Is4() {
		ip = ip.Unmap()
	}
	return ip
}

// heldIPs returns the cluster IPs a stored service holds.
func heldIPs(svc *corev1.Service) []netip.Addr {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range ips {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// heldPorts returns the node ports a stored service holds.
func heldPorts(svc *corev1.Service) []int {
	var out []int
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out = append(out, int(p.NodePort))
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		out = append(out, int(svc.Spec.HealthCheckNodePort))
	}
	return out
}

func serviceKey(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }
