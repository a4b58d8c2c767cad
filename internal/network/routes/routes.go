// Package routes keeps a node's routes of the pod network: a route to
// every other node's pod CIDRs through that node's InternalIP (host
// gateway), a blackhole route for the whole cluster CIDR and a route for
// the service CIDR into the loopback device, so that a packet for an
// address nobody has stays on this machine instead of following the
// default route off it, and, when asked, masquerading of pod traffic that
// leaves the cluster CIDR.
//
// The service CIDR cannot be a blackhole: the kernel refuses to connect a
// local socket (a host-network pod's, the node's own) to an address whose
// route is a blackhole before the service proxy's DNAT could rewrite it.
// Routed into loopback, the connection starts, the proxy's rules redirect
// it, and the proxy refuses addresses and ports no Service has.
package routes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// Protocol marks the routes this package owns (the rtnetlink protocol
// field), so it removes only its own.
const Protocol = netlink.RouteProtocol(151)

// ServiceDevice is the device the service CIDR is routed into.
const ServiceDevice = "lo"

// resyncInterval repairs routes someone else removed.
const resyncInterval = time.Minute

// Options configure a Manager.
type Options struct {
	// NodeName is this node; its own pod CIDR is on its bridge already.
	NodeName string
	// Client watches Nodes.
	Client kubernetes.Interface
	// ClusterCIDRs and ServiceCIDRs get blackhole routes.
	ClusterCIDRs []netip.Prefix
	ServiceCIDRs []netip.Prefix
	// Masquerade SNATs pod traffic leaving the cluster CIDR to the node's
	// address. Default false.
	Masquerade bool
}

// Manager keeps the routes in line with the Nodes.
type Manager struct {
	opts    Options
	factory informers.SharedInformerFactory
	nodes   cache.SharedIndexInformer
	trigger chan struct{}
	handle  *netlink.Handle
}

// New builds a Manager.
func New(opts Options) (*Manager, error) {
	if opts.Client == nil || opts.NodeName == "" {
		return nil, errors.New("routes: client and node name are required")
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("routes: netlink: %w", err)
	}
	m := &Manager{opts: opts, trigger: make(chan struct{}, 1), handle: h}
	m.factory = informers.NewSharedInformerFactory(opts.Client, 0)
	m.nodes = m.factory.Core().V1().Nodes().Informer()
	if err := m.nodes.SetTransform(slimNode); err != nil {
		return nil, err
	}
	if _, err := m.nodes.AddEventHandler(controller.OnEvery(func(any) { m.poke() })); err != nil {
		return nil, err
	}
	return m, nil
}

// slimNode keeps what routing needs of a Node.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Node{}
	slim.Name, slim.Namespace, slim.ResourceVersion = n.Name, n.Namespace, n.ResourceVersion
	slim.Spec.PodCIDR, slim.Spec.PodCIDRs = n.Spec.PodCIDR, n.Spec.PodCIDRs
	slim.Status.Addresses = n.Status.Addresses
	return slim, nil
}

func (m *Manager) poke() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

// Run installs the routes and keeps them current until ctx ends; it
// leaves them in place when it stops (pods keep their network across an
// agent restart).
func (m *Manager) Run(ctx context.Context) error {
	defer m.handle.Close()
	logger := klog.FromContext(ctx).WithValues("component", "routes")
	if err := syncMasquerade(m.opts.ClusterCIDRs, m.opts.Masquerade); err != nil {
		return err
	}
	m.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), m.nodes.HasSynced) {
		return nil
	}
	m.poke()
	ticker := time.NewTicker(resyncInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			m.factory.Shutdown()
			return nil
		case <-m.trigger:
		case <-ticker.C:
		}
		if err := m.sync(); err != nil {
			logger.Error(err, "Syncing routes failed; retrying")
			time.AfterFunc(time.Second, m.poke)
		}
	}
}

// desired is the routes the cluster's Nodes call for; serviceLink is
// the index of ServiceDevice.
func (m *Manager) desired(serviceLink int) []netlink.Route {
	var out []netlink.Route
	for _, cidr := range m.opts.ClusterCIDRs {
		out = append(out, netlink.Route{Dst: prefixNet(cidr), Type: unix.RTN_BLACKHOLE, Protocol: Protocol})
	}
	for _, cidr := range m.opts.ServiceCIDRs {
		out = append(out, netlink.Route{Dst: prefixNet(cidr), LinkIndex: serviceLink, Protocol: Protocol})
	}
	for _, obj := range m.nodes.GetStore().List() {
		node, ok := obj.(*corev1.Node)
		if !ok || node.Name == m.opts.NodeName {
			continue
		}
		gw := internalIP(node)
		if !gw.IsValid() {
			continue
		}
		cidrs := node.Spec.PodCIDRs
		if len(cidrs) == 0 && node.Spec.PodCIDR != "" {
			cidrs = []string{node.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil || p.Addr().Is4() != gw.Is4() {
				continue
			}
			out = append(out, netlink.Route{Dst: prefixNet(p), Gw: net.IP(gw.AsSlice()), Protocol: Protocol})
		}
	}
	return out
}

// internalIP is the node's first InternalIP.
func internalIP(node *corev1.Node) netip.Addr {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				return ip
			}
		}
	}
	return netip.Addr{}
}

func prefixNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// serviceLink returns the index of ServiceDevice.
func (m *Manager) serviceLink() (int, error) {
	link, err := m.handle.LinkByName(ServiceDevice)
	if err != nil {
		return 0, fmt.Errorf("find %s: %w", ServiceDevice, err)
	}
	return link.Attrs().Index, nil
}

// sync makes the kernel's routes of Protocol exactly the desired ones.
func (m *Manager) sync() error {
	index, err := m.serviceLink()
	if err != nil {
		return err
	}
	want := map[string]netlink.Route{}
	for _, r := range m.desired(index) {
		want[r.Dst.String()] = r
	}
	have, err := m.handle.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: Protocol}, netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	var errs []error
	for _, r := range have {
		if w, ok := want[r.Dst.String()]; ok && sameRoute(r, w) {
			delete(want, r.Dst.String())
			continue
		}
		if err := m.handle.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete route %s: %w", r.Dst, err))
		}
	}
	for _, r := range want {
		if err := m.handle.RouteReplace(&r); err != nil {
			errs = append(errs, fmt.Errorf("add route %s via %s: %w", r.Dst, r.Gw, err))
		}
	}
	return errors.Join(errs...)
}

func sameRoute(a, b netlink.Route) bool {
	return a.Type == b.Type && a.Gw.Equal(b.Gw) && a.LinkIndex == b.LinkIndex
}
