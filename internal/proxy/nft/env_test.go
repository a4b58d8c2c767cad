package nft

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

func TestMain(m *testing.M) { os.Exit(proxytest.Main(m)) }

// localNode is the node the Syncer under test runs on; backend 0 is on it,
// the others are on otherNode.
const (
	localNode = "node-a"
	otherNode = "node-b"
)

// env is a topology whose node namespace a Syncer programs.
type env struct {
	t    *testing.T
	topo *proxytest.Topology
	s    *Syncer
}

func newEnv(t *testing.T, backends int, tweak func(*Options)) *env {
	t.Helper()
	topo := proxytest.NewTopology(t, backends)
	o := Options{
		NodeName:     localNode,
		NodeIPs:      []netip.Addr{proxytest.NodeIP},
		ClusterCIDRs: []netip.Prefix{proxytest.ClusterCIDR},
		ServiceCIDRs: []netip.Prefix{proxytest.ServiceCIDR},
		NetNSFd:      topo.Node.Fd(),
	}
	if tweak != nil {
		tweak(&o)
	}
	s, err := NewSyncer(o)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range topo.Backends {
		b.Serve(t, fmt.Sprintf("b%d", i), 8080)
	}
	return &env{t: t, topo: topo, s: s}
}

func (e *env) sync(st *State) Stats {
	e.t.Helper()
	stats, err := e.s.Sync(context.Background(), st)
	if err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
	return stats
}

// table lists the node's table.
func (e *env) table() *proxytest.Table {
	e.t.Helper()
	tab := e.topo.Node.ListTable(e.t, DefaultTable)
	if tab == nil {
		e.t.Fatal("no table in the node namespace")
	}
	return tab
}

// dial connects count times over TCP from leaf to addr and returns how
// many answers each "backend from source" got, and errors as "error: kind".
func (e *env) dial(leaf *proxytest.Netns, addr string, count int) map[string]int {
	e.t.Helper()
	got := map[string]int{}
	for _, r := range leaf.Dial(e.t, "tcp", addr, count, 2*time.Second) {
		got[r.String()]++
	}
	return got
}

// Fixture builders.

func service(name, clusterIP string, ports ...Port) *Service {
	s := &Service{Namespace: "default", Name: name, Ports: ports}
	if clusterIP != "" {
		s.ClusterIPs = []netip.Addr{netip.MustParseAddr(clusterIP)}
	}
	return s
}

func tcp(name string, port uint16, eps ...Endpoint) Port {
	return Port{Name: name, Protocol: corev1.ProtocolTCP, Port: port, Endpoints: eps}
}

func udp(name string, port uint16, eps ...Endpoint) Port {
	return Port{Name: name, Protocol: corev1.ProtocolUDP, Port: port, Endpoints: eps}
}

// backend is a ready endpoint on backend i's server.
func backend(i int) Endpoint {
	node := otherNode
	if i == 0 {
		node = localNode
	}
	return Endpoint{Addr: proxytest.BackendIP(i), Port: 8080, Ready: true, Serving: true, NodeName: node}
}

func state(svcs ...*Service) *State {
	st := &State{Services: map[string]*Service{}}
	for _, s := range svcs {
		st.Services[s.Namespace+"/"+s.Name] = s
	}
	return st
}

// from renders an expected answer.
func from(backend int, source netip.Addr) string { return fmt.Sprintf("b%d from %s", backend, source) }
