package routes

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// inNetNS runs f on a thread inside a new network namespace, named name
// so that `ip netns exec` can look into it, and removes it afterwards.
func inNetNS(t *testing.T, name string, f func()) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread is left in the namespace and never unlocked, so the
		// runtime retires it when the goroutine ends.
		runtime.LockOSThread()
		target, err := netns.GetFromName(name)
		if err != nil {
			t.Error(err)
			return
		}
		defer func() { _ = target.Close() }()
		if err := netns.Set(target); err != nil {
			t.Error(err)
			return
		}
		f()
	}()
	<-done
}

func nsExec(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
	return string(out)
}

func testNode(name, ip string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	n.Spec.PodCIDRs = cidrs
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
	return n
}

func TestSyncRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root to create network namespaces")
	}
	name := "tugroutes-" + strings.ReplaceAll(t.Name(), "/", "-")
	inNetNS(t, name, func() {
		h, err := netlink.NewHandle()
		if err != nil {
			t.Error(err)
			return
		}
		defer h.Close()
		// An address on the node subnet makes the other nodes' gateways
		// reachable, as on a real node.
		lo, _ := h.LinkByName("lo")
		_ = h.LinkSetUp(lo)
		// This kernel has no dummy devices: a veth pair stands in.
		dummy := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "eth0p"}
		if err := h.LinkAdd(dummy); err != nil {
			t.Error(err)
			return
		}
		addr, _ := netlink.ParseAddr("192.168.50.10/24")
		if err := h.AddrAdd(dummy, addr); err != nil {
			t.Error(err)
			return
		}
		if err := h.LinkSetUp(dummy); err != nil {
			t.Error(err)
			return
		}
		m := &Manager{
			opts: Options{
				NodeName:     "self",
				ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16")},
				ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.43.0.0/16")},
			},
			handle: h,
			nodes:  cache.NewSharedIndexInformer(nil, &corev1.Node{}, 0, cache.Indexers{}),
		}
		store := m.nodes.GetStore()
		for _, n := range []*corev1.Node{
			testNode("self", "192.168.50.10", "10.42.0.0/24"),
			testNode("peer", "192.168.50.11", "10.42.1.0/24"),
			testNode("gone", "192.168.50.12", "10.42.2.0/24"),
		} {
			_ = store.Add(n)
		}
		if err := m.sync(); err != nil {
			t.Errorf("first sync: %v", err)
			return
		}
		_ = store.Delete(testNode("gone", "", ""))
		if err := m.sync(); err != nil {
			t.Errorf("second sync: %v", err)
		}
	})
	out := nsExec(t, name, "ip", "-4", "route", "show", "proto", "151")
	for _, want := range []string{"blackhole 10.42.0.0/16", "10.42.1.0/24 via 192.168.50.11", "10.43.0.0/16 dev lo"} {
		if !strings.Contains(out, want) {
			t.Errorf("routes:\n%s\nwant a line with %q", out, want)
		}
	}
	for _, unwanted := range []string{"10.42.0.0/24", "10.42.2.0/24"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("routes:\n%s\nhave %q (own or deleted node)", out, unwanted)
		}
	}
}

func TestMasquerade(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root to create network namespaces")
	}
	name := "tugmasq-" + strings.ReplaceAll(t.Name(), "/", "-")
	cidrs := []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16")}
	inNetNS(t, name, func() {
		if err := syncMasquerade(cidrs, true); err != nil {
			t.Error(err)
		}
	})
	var listing struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	out := nsExec(t, name, "nft", "-j", "list", "table", "ip", masqueradeTable)
	if err := json.Unmarshal([]byte(out), &listing); err != nil {
		t.Fatal(err)
	}
	text := nsExec(t, name, "nft", "list", "table", "ip", masqueradeTable)
	if !strings.Contains(text, "ip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16 masquerade") {
		t.Errorf("masquerade table:\n%s", text)
	}
	inNetNS(t, name+"-off", func() {
		if err := syncMasquerade(cidrs, true); err != nil {
			t.Error(err)
		}
		if err := syncMasquerade(cidrs, false); err != nil {
			t.Error(err)
		}
	})
	if out := nsExec(t, name+"-off", "nft", "list", "tables"); strings.Contains(out, masqueradeTable) {
		t.Errorf("masquerading turned off, tables still:\n%s", out)
	}
}
