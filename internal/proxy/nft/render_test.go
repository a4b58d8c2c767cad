package nft

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestRenderGolden pins the rule set of one Service of each kind.
func TestRenderGolden(t *testing.T) {
	terminating := backend(1)
	terminating.Ready, terminating.Terminating = false, true

	web := service("web", "10.43.0.10", tcp("http", 80, backend(0), backend(1)), udp("dns", 53, backend(0)))
	sticky := service("sticky", "10.43.0.11", tcp("", 443, backend(0), backend(1)))
	sticky.AffinityTimeout = 3 * time.Hour
	local := service("local", "10.43.0.12", tcp("http", 80, backend(0), backend(1)))
	local.InternalLocal, local.ExternalLocal = true, true
	local.Ports[0].NodePort = 30080
	local.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("198.51.100.11")}
	external := service("external", "10.43.0.13", tcp("http", 80, backend(1)))
	external.ExternalIPs = []netip.Addr{netip.MustParseAddr("198.51.100.10")}
	external.Ports[0].NodePort = 30081
	empty := service("empty", "10.43.0.14", tcp("http", 80, terminating))
	empty.Ports[0].Endpoints[0].Serving = false
	empty.Ports[0].NodePort = 30082
	dual := service("dual", "10.43.0.15", Port{Name: "sctp", Protocol: corev1.ProtocolSCTP, Port: 9, Endpoints: []Endpoint{
		backend(0), {Addr: netip.MustParseAddr("fd00::1"), Port: 9, Ready: true},
	}})
	dual.ClusterIPs = append(dual.ClusterIPs, netip.MustParseAddr("fd00:43::15"))

	got, err := Render(Options{
		NodeName:     localNode,
		NodeIPs:      []netip.Addr{proxytest.NodeIP},
		ClusterCIDRs: []netip.Prefix{proxytest.ClusterCIDR, netip.MustParsePrefix("10.42.7.0/24")},
		ServiceCIDRs: []netip.Prefix{proxytest.ServiceCIDR},
	}, state(web, sticky, local, external, empty, dual))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("rendered table differs from %s (-want +got); rerun with -update if intended:\n%s", golden, diff)
	}
}
