package proxytest

import (
	"fmt"
	"net/netip"
	"testing"
)

// Addresses of a Topology. The pod network is 10.42.0.0/16 and Services
// take 10.43.0.0/16, tug's defaults; the outside network is a /24 of its
// own. None of them is routed beyond the namespaces.
var (
	ClusterCIDR = netip.MustParsePrefix("10.42.0.0/16")
	ServiceCIDR = netip.MustParsePrefix("10.43.0.0/16")
	// NodeIP is the node's address on the outside network.
	NodeIP = netip.MustParseAddr("192.168.77.1")
	// OutsideIP is the outside host's address.
	OutsideIP = netip.MustParseAddr("192.168.77.2")
	// ClientIP is the client pod's address.
	ClientIP = netip.MustParseAddr("10.42.1.2")
)

// Topology is a node that routes between a client pod, backend pods and a
// host outside the cluster, each in its own namespace behind a veth to the
// node; the leaves route everything through the node, and the node routes
// only to them.
type Topology struct {
	// Node is where the proxy's table goes.
	Node *Netns
	// Client is a pod at ClientIP.
	Client *Netns
	// Outside is a host at OutsideIP, outside the cluster CIDR.
	Outside *Netns
	// Backends are pods at BackendIP(i).
	Backends []*Netns
}

// BackendIP is the address of backend i: 10.42.(2+i).2.
func BackendIP(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 42, byte(2 + i), 2}) }

// NodeAddrToward is the node's address on backend i's link, which traffic
// the node masquerades toward that backend comes from.
func NodeAddrToward(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 42, byte(2 + i), 1}) }

// NewTopology creates the namespaces and links for backends backends; they
// are deleted when the test ends.
func NewTopology(t testing.TB, backends int) *Topology {
	t.Helper()
	topo := &Topology{Node: New(t), Client: New(t), Outside: New(t)}
	topo.Node.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	link := func(leaf *Netns, name string, node, addr netip.Addr) {
		t.Helper()
		topo.Node.MustExec(t, "ip", "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", leaf.Name)
		topo.Node.MustExec(t, "ip", "addr", "add", node.String()+"/24", "dev", name)
		topo.Node.MustExec(t, "ip", "link", "set", name, "up")
		leaf.MustExec(t, "ip", "addr", "add", addr.String()+"/24", "dev", "eth0")
		leaf.MustExec(t, "ip", "link", "set", "eth0", "up")
		leaf.MustExec(t, "ip", "route", "add", "default", "via", node.String())
	}
	link(topo.Client, "client", netip.MustParseAddr("10.42.1.1"), ClientIP)
	link(topo.Outside, "outside", NodeIP, OutsideIP)
	for i := range backends {
		b := New(t)
		topo.Backends = append(topo.Backends, b)
		link(b, fmt.Sprintf("backend%d", i), NodeAddrToward(i), BackendIP(i))
	}
	return topo
}
