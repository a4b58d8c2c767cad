package nodeipam

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// harness is a controller over a fake clientset whose lister is an indexer
// the test fills, so sync runs without informers.
type harness struct {
	t       *testing.T
	client  *fake.Clientset
	indexer cache.Indexer
	c       *Controller
}

func newHarness(t *testing.T, cluster string, nodes ...*corev1.Node) *harness {
	t.Helper()
	objs := make([]runtime.Object, len(nodes))
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for i, n := range nodes {
		objs[i] = n
		if err := indexer.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	client := fake.NewClientset(objs...)
	c, err := newController(client, corelisters.NewNodeLister(indexer), netip.MustParsePrefix(cluster))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, client: client, indexer: indexer, c: c}
}

// sync runs the controller for node name, then copies the node from the
// fake API into the lister, as the informer would.
func (h *harness) sync(name string) error {
	h.t.Helper()
	err := h.c.sync(context.Background(), name)
	if n, getErr := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{}); getErr == nil {
		if err := h.indexer.Update(n); err != nil {
			h.t.Fatal(err)
		}
	}
	return err
}

func (h *harness) podCIDRs(names ...string) map[string][]string {
	h.t.Helper()
	out := map[string][]string{}
	for _, name := range names {
		n, err := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			h.t.Fatal(err)
		}
		out[name] = append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...)
	}
	return out
}

func (h *harness) deleteNode(name string) {
	h.t.Helper()
	if err := h.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.indexer.Delete(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) addNode(n *corev1.Node) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.indexer.Add(n); err != nil {
		h.t.Fatal(err)
	}
}

func node(name, podCIDR string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
	if podCIDR != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = podCIDR, []string{podCIDR}
	}
	return n
}

func TestAssignsCIDRs(t *testing.T) {
	h := newHarness(t, "10.42.0.0/16", node("a", ""), node("b", ""))
	for _, n := range []string{"a", "b", "a"} { // syncing again changes nothing
		if err := h.sync(n); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{"a": {"10.42.0.0/24", "10.42.0.0/24"}, "b": {"10.42.1.0/24", "10.42.1.0/24"}}
	if diff := cmp.Diff(want, h.podCIDRs("a", "b")); diff != "" {
		t.Errorf("pod CIDRs (-want +got):\n%s", diff)
	}
}

func TestExistingCIDRsAreKept(t *testing.T) {
	// A restart: node b already holds the first CIDR, so the new node c
	// must not get it even though c is synced first.
	h := newHarness(t, "10.42.0.0/16", node("b", "10.42.0.0/24"), node("c", ""))
	if err := h.sync("c"); err != nil {
		t.Fatal(err)
	}
	if err := h.sync("b"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"b": {"10.42.0.0/24", "10.42.0.0/24"}, "c": {"10.42.1.0/24", "10.42.1.0/24"}}
	if diff := cmp.Diff(want, h.podCIDRs("b", "c")); diff != "" {
		t.Errorf("pod CIDRs (-want +got):\n%s", diff)
	}
}

func TestDeletionFreesAndExhaustionWaits(t *testing.T) {
	// Room for two nodes.
	h := newHarness(t, "10.42.0.0/23", node("a", ""), node("b", ""), node("c", ""))
	for _, n := range []string{"a", "b"} {
		if err := h.sync(n); err != nil {
			t.Fatal(err)
		}
	}
	err := h.sync("c")
	var requeue controller.Requeue
	if !errors.As(err, &requeue) {
		t.Fatalf("sync of a node with no free CIDR = %v, want a Requeue", err)
	}
	events, err := h.client.CoreV1().Events(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 1 || events.Items[0].Reason != "CIDRNotAvailable" || events.Items[0].InvolvedObject.Name != "c" {
		t.Errorf("events = %+v, want one CIDRNotAvailable for node c", events.Items)
	}

	h.deleteNode("a")
	if err := h.sync("a"); err != nil {
		t.Fatal(err)
	}
	if err := h.sync("c"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"b": {"10.42.1.0/24", "10.42.1.0/24"}, "c": {"10.42.0.0/24", "10.42.0.0/24"}}
	if diff := cmp.Diff(want, h.podCIDRs("b", "c")); diff != "" {
		t.Errorf("pod CIDRs (-want +got):\n%s", diff)
	}
	if free := h.c.alloc.Free(); free != 0 {
		t.Errorf("free CIDRs = %d, want 0", free)
	}

	// A node re-created under a deleted node's name gets a CIDR again.
	h.deleteNode("b")
	if err := h.sync("b"); err != nil {
		t.Fatal(err)
	}
	h.addNode(node("b", ""))
	if err := h.sync("b"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"b": {"10.42.1.0/24", "10.42.1.0/24"}}, h.podCIDRs("b")); diff != "" {
		t.Errorf("pod CIDRs (-want +got):\n%s", diff)
	}
}
