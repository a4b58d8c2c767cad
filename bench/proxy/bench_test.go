package main

import (
	"io"
	"net/netip"
	"testing"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Sizes) != 2 || o.Sizes[0] != 100 || o.Sizes[1] != 1000 || o.Endpoints != 10 || o.Repeats != 5 {
		t.Errorf("quick options = %+v, want 100 and 1000 Services, 10 endpoints, 5 repeats", o)
	}
	for _, args := range [][]string{{"-services", "x"}, {"-services", "3", "-repeats", "5"}, {"-endpoints", "0"}, {"-only", "kube-proxy"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

func TestNewService(t *testing.T) {
	svc := newService(10, 3)
	if got, want := svc.ClusterIPs[0], netip.MustParseAddr("10.96.0.11"); got != want {
		t.Errorf("cluster IP %s, want %s", got, want)
	}
	p := svc.Ports[0]
	if p.NodePort != nodePortFirst+1 || len(p.Endpoints) != 3 || p.Endpoints[0].NodeName != nodeName {
		t.Errorf("port %+v, want node port %d and 3 endpoints, the first on %s", p, nodePortFirst+1, nodeName)
	}
	if got, want := p.Endpoints[2].Addr, netip.MustParseAddr("10.64.0.33"); got != want {
		t.Errorf("third endpoint %s, want %s", got, want)
	}
	if newService(11, 1).Ports[0].NodePort != 0 {
		t.Error("Service 11 has a node port, want only every tenth")
	}
}
