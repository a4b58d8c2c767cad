package nft

import (
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

func TestClusterIPBalancesOverReadyEndpoints(t *testing.T) {
	e := newEnv(t, 3, nil)
	notReady := backend(2)
	notReady.Ready, notReady.Serving = false, false
	e.sync(state(service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1), notReady))))

	got := e.dial(e.topo.Client, "10.43.0.10:80", 40)
	want := []string{from(0, proxytest.ClientIP), from(1, proxytest.ClientIP)}
	if keys := slices.Sorted(maps.Keys(got)); !cmp.Equal(keys, want) {
		t.Errorf("answers from the client pod: %v, want each of %v (pod traffic keeps its source; the unready endpoint gets none)", got, want)
	}
	// From outside the cluster CIDR the source is masqueraded to the
	// node's address toward the backend, so that replies come back
	// through the node.
	for r := range e.dial(e.topo.Outside, "10.43.0.10:80", 10) {
		if r != from(0, proxytest.NodeAddrToward(0)) && r != from(1, proxytest.NodeAddrToward(1)) {
			t.Errorf("answer to the outside host: %q, want a masqueraded source", r)
		}
	}

	tab := e.table()
	if _, ok := tab.Chains["svc-default/web/tcp/http"]; !ok {
		t.Errorf("no chain svc-default/web/tcp/http in %v", slices.Sorted(maps.Keys(tab.Chains)))
	}
	if n := len(tab.Sets[mapServiceIPs]); n != 1 {
		t.Errorf("%s has %d elements, want 1", mapServiceIPs, n)
	}
}

func TestEndpointsWithTheirOwnPorts(t *testing.T) {
	// A named target port may resolve to a different number on each pod.
	e := newEnv(t, 2, nil)
	e.topo.Backends[1].Serve(t, "b1-alt", 9090)
	other := backend(1)
	other.Port = 9090
	e.sync(state(service("web", "10.43.0.10", tcp("http", 80, backend(0), other))))

	got := e.dial(e.topo.Client, "10.43.0.10:80", 30)
	want := map[string]bool{from(0, proxytest.ClientIP): true, "b1-alt from " + proxytest.ClientIP.String(): true}
	if keys := slices.Collect(maps.Keys(got)); len(keys) != 2 || !want[keys[0]] || !want[keys[1]] {
		t.Errorf("answers: %v, want both of %v", got, want)
	}
}

func TestTerminatingEndpointsServeWhenNoneIsReady(t *testing.T) {
	e := newEnv(t, 2, nil)
	terminating := backend(0)
	terminating.Ready, terminating.Terminating = false, true
	gone := backend(1)
	gone.Ready, gone.Serving, gone.Terminating = false, false, true
	e.sync(state(service("web", "10.43.0.10", tcp("http", 80, terminating, gone))))

	got := e.dial(e.topo.Client, "10.43.0.10:80", 10)
	if want := map[string]int{from(0, proxytest.ClientIP): 10}; !maps.Equal(got, want) {
		t.Errorf("answers: %v, want %v (the serving terminating endpoint only)", got, want)
	}
}

func TestNoEndpointsRejectAtOnce(t *testing.T) {
	e := newEnv(t, 1, nil)
	empty := service("empty", "10.43.0.20", tcp("http", 80), udp("dns", 53))
	empty.Ports[0].NodePort = 30080
	e.sync(state(empty, service("web", "10.43.0.10", tcp("http", 80, backend(0)))))

	for _, c := range []struct {
		name        string
		leaf        *proxytest.Netns
		proto, addr string
	}{
		{"cluster IP without endpoints, TCP", e.topo.Client, "tcp", "10.43.0.20:80"},
		{"cluster IP without endpoints, UDP", e.topo.Client, "udp", "10.43.0.20:53"},
		{"NodePort without endpoints", e.topo.Outside, "tcp", proxytest.NodeIP.String() + ":30080"},
		{"a port the Service does not have", e.topo.Client, "tcp", "10.43.0.10:81"},
		{"an address no Service has", e.topo.Client, "tcp", "10.43.0.99:80"},
	} {
		// A refusal, not a timeout: the client learns at once.
		if r := c.leaf.DialOne(t, c.proto, c.addr, 3*time.Second); r.Err != "refused" {
			t.Errorf("%s (%s %s): %v, want refused", c.name, c.proto, c.addr, r)
		}
	}
	if r := e.topo.Client.DialOne(t, "tcp", "10.43.0.10:80", 2*time.Second); r.Err != "" {
		t.Errorf("the Service with an endpoint: %v", r)
	}
}

func TestSessionAffinityKeepsAClientOnOneEndpoint(t *testing.T) {
	e := newEnv(t, 3, nil)
	web := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1), backend(2)))
	web.AffinityTimeout = time.Hour
	e.sync(state(web))

	for _, leaf := range []*proxytest.Netns{e.topo.Client, e.topo.Outside} {
		got := e.dial(leaf, "10.43.0.10:80", 15)
		if len(got) != 1 {
			t.Errorf("answers to %s: %v, want one endpoint for all", leaf.Name, got)
		}
	}
	// The client is remembered in its endpoint's set.
	clients := 0
	for name, elems := range e.table().Sets {
		if len(name) > len(setPrefixAffinity) && name[:len(setPrefixAffinity)] == setPrefixAffinity {
			clients += len(elems)
		}
	}
	if clients != 2 {
		t.Errorf("affinity sets hold %d clients, want 2", clients)
	}
}

func TestNodePortExternalAndLoadBalancerIPs(t *testing.T) {
	e := newEnv(t, 1, nil)
	web := service("web", "10.43.0.10", tcp("http", 80, backend(0)))
	web.Ports[0].NodePort = 30080
	web.ExternalIPs = []netip.Addr{netip.MustParseAddr("198.51.100.10")}
	web.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("198.51.100.11")}
	e.sync(state(web))

	masqueraded := map[string]int{from(0, proxytest.NodeAddrToward(0)): 1}
	for _, addr := range []string{proxytest.NodeIP.String() + ":30080", "198.51.100.10:80", "198.51.100.11:80"} {
		if got := e.dial(e.topo.Outside, addr, 1); !maps.Equal(got, masqueraded) {
			t.Errorf("from outside to %s: %v, want %v", addr, got, masqueraded)
		}
	}
	// The node itself reaches its NodePort (through the nat output hook).
	if got := e.dial(e.topo.Node, proxytest.NodeIP.String()+":30080", 1); !maps.Equal(got, masqueraded) {
		t.Errorf("from the node to its NodePort: %v, want %v", got, masqueraded)
	}
}

func TestExternalTrafficPolicyLocal(t *testing.T) {
	e := newEnv(t, 2, nil)
	web := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)))
	web.Ports[0].NodePort = 30080
	web.ExternalLocal = true
	e.sync(state(web))
	nodePort := proxytest.NodeIP.String() + ":30080"

	// Outside traffic goes to the local endpoint only, with its source.
	if got, want := e.dial(e.topo.Outside, nodePort, 10), map[string]int{from(0, proxytest.OutsideIP): 10}; !maps.Equal(got, want) {
		t.Errorf("from outside: %v, want %v", got, want)
	}
	// A pod reaching the NodePort is balanced like cluster traffic.
	got := e.dial(e.topo.Client, nodePort, 30)
	if want := []string{from(0, proxytest.ClientIP), from(1, proxytest.ClientIP)}; !cmp.Equal(slices.Sorted(maps.Keys(got)), want) {
		t.Errorf("from a pod: %v, want each of %v", got, want)
	}

	// Without a local endpoint outside traffic is dropped, not sent
	// elsewhere.
	web2 := *web
	web2.Ports = []Port{web.Ports[0]}
	web2.Ports[0].Endpoints = []Endpoint{backend(1)}
	e.sync(state(&web2))
	if r := e.topo.Outside.DialOne(t, "tcp", nodePort, 500*time.Millisecond); r.Err != "timeout" {
		t.Errorf("from outside without a local endpoint: %v, want a timeout (dropped)", r)
	}
}

func TestInternalTrafficPolicyLocal(t *testing.T) {
	e := newEnv(t, 2, nil)
	web := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)))
	web.InternalLocal = true
	e.sync(state(web))

	if got, want := e.dial(e.topo.Client, "10.43.0.10:80", 10), map[string]int{from(0, proxytest.ClientIP): 10}; !maps.Equal(got, want) {
		t.Errorf("answers: %v, want %v (the local endpoint only)", got, want)
	}

	remoteOnly := service("web", "10.43.0.10", tcp("http", 80, backend(1)))
	remoteOnly.InternalLocal = true
	e.sync(state(remoteOnly))
	if r := e.topo.Client.DialOne(t, "tcp", "10.43.0.10:80", 500*time.Millisecond); r.Err != "timeout" {
		t.Errorf("without a local endpoint: %v, want a timeout (dropped)", r)
	}
}

func TestHairpin(t *testing.T) {
	e := newEnv(t, 1, nil)
	e.sync(state(service("web", "10.43.0.10", tcp("http", 80, backend(0)))))

	// The pod reaches itself through its Service: masqueraded, or it would
	// receive a packet from its own address and drop it.
	got := e.dial(e.topo.Backends[0], "10.43.0.10:80", 1)
	if want := map[string]int{from(0, proxytest.NodeAddrToward(0)): 1}; !maps.Equal(got, want) {
		t.Errorf("pod to itself through its Service: %v, want %v", got, want)
	}
}

func TestMasqueradeAll(t *testing.T) {
	e := newEnv(t, 1, func(o *Options) { o.MasqueradeAll = true })
	e.sync(state(service("web", "10.43.0.10", tcp("http", 80, backend(0)))))

	got := e.dial(e.topo.Client, "10.43.0.10:80", 1)
	if want := map[string]int{from(0, proxytest.NodeAddrToward(0)): 1}; !maps.Equal(got, want) {
		t.Errorf("with MasqueradeAll, pod traffic: %v, want %v", got, want)
	}
}
