package simulated

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/controller"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is a simulator over a fake clientset and a fake clock. Its
// informers never run: refresh copies the fake API's objects into their
// stores, as a running informer would, so syncs are called one by one.
type harness struct {
	t      *testing.T
	sim    *Simulator
	client *fake.Clientset
	clock  *testingclock.FakeClock
}

func testConfig() Config {
	return Config{
		Nodes:      2,
		NamePrefix: "sim-",
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("8Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		},
		Zones:             2,
		PodCompletionTime: 3 * time.Second,
		LeaseDuration:     40 * time.Second,
		KubeletVersion:    "v1.37.2",
		Rand:              func() float64 { return 0.5 },
	}
}

func newHarness(t *testing.T, cfg Config, objs ...runtime.Object) *harness {
	t.Helper()
	clock := testingclock.NewFakeClock(t0)
	cfg.Clock = clock
	client := fake.NewClientset(objs...)
	// The fake API assigns no UIDs; the owner references need them.
	var created int
	client.PrependReactor("create", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if obj, err := meta.Accessor(action.(k8stesting.CreateAction).GetObject()); err == nil && obj.GetUID() == "" {
			created++
			obj.SetUID(types.UID(fmt.Sprintf("uid-%d", created)))
		}
		return false, nil, nil
	})
	sim, err := New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sim: sim, client: client, clock: clock}
	h.refresh()
	return h
}

// refresh replaces the informers' stores with the fake API's objects,
// transformed as the informers transform them.
func (h *harness) refresh() {
	h.t.Helper()
	ctx := context.Background()
	nodes, err := h.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var slimNodes []any
	for i := range nodes.Items {
		n, _ := slimNode(&nodes.Items[i])
		slimNodes = append(slimNodes, n)
	}
	if err := h.sim.nodeInformer.GetStore().Replace(slimNodes, ""); err != nil {
		h.t.Fatal(err)
	}
	pods, err := h.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var slimPods []any
	for i := range pods.Items {
		p, _ := slimPod(&pods.Items[i], h.sim.canonicalName)
		slimPods = append(slimPods, p)
	}
	if err := h.sim.podInformer.GetStore().Replace(slimPods, ""); err != nil {
		h.t.Fatal(err)
	}
}

// syncNode syncs node name, refreshes the stores and returns the requeue
// delay (0 when sync asked for none).
func (h *harness) syncNode(name string) time.Duration {
	h.t.Helper()
	return h.requeue(h.sim.syncNode(context.Background(), name))
}

// syncPod syncs pod key like syncNode.
func (h *harness) syncPod(key string) time.Duration {
	h.t.Helper()
	return h.requeue(h.sim.syncPod(context.Background(), key))
}

func (h *harness) requeue(err error) time.Duration {
	h.t.Helper()
	var rq controller.Requeue
	switch {
	case errors.As(err, &rq):
		h.refresh()
		return rq.After
	case err != nil:
		h.t.Fatalf("sync: %v", err)
	}
	h.refresh()
	return 0
}

func (h *harness) node(name string) *corev1.Node {
	h.t.Helper()
	n, err := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// setPodCIDR plays the node IPAM controller.
func (h *harness) setPodCIDR(name, cidr string) {
	h.t.Helper()
	n := h.node(name)
	n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
	if _, err := h.client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	h.refresh()
}

// makePod is a pod bound to node with one container.
func makePod(name, node string, policy corev1.RestartPolicy) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: policy,
			Containers:    []corev1.Container{{Name: "main", Image: "example.com/app:1"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func typesUID(s string) types.UID { return types.UID(s) }
