package nodelifecycle

import (
	"context"
	"errors"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/controller"
)

const testGrace = 40 * time.Second

// t0 is when every test starts; whole seconds, as the API stores times.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness runs the controller's syncs by hand against a fake API: the
// informer caches are refilled from the fake API before each sync instead
// of by watches, so that tests run without goroutines or sleeps.
type harness struct {
	t        *testing.T
	client   *fake.Clientset
	clock    *clocktesting.FakePassiveClock
	recorder *events.FakeRecorder
	factory  informers.SharedInformerFactory
	c        *Controller
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	h := &harness{t: t, client: client, clock: clocktesting.NewFakePassiveClock(t0),
		recorder: events.NewFakeRecorder(100), factory: factory}
	c, err := New(Config{
		Client: client, Nodes: factory.Core().V1().Nodes(), Leases: factory.Coordination().V1().Leases(),
		Pods: factory.Core().V1().Pods(), GracePeriod: testGrace, Clock: h.clock, Recorder: h.recorder,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	return h
}

func (h *harness) advance(d time.Duration) { h.clock.SetTime(h.clock.Now().Add(d)) }

// refresh copies the fake API's objects into the informer caches.
func (h *harness) refresh() {
	h.t.Helper()
	ctx := context.Background()
	nodes, err := h.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	leases, err := h.client.CoordinationV1().Leases("").List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	pods, err := h.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	replace(h.t, h.factory.Core().V1().Nodes().Informer().GetIndexer(), nodes.Items)
	replace(h.t, h.factory.Coordination().V1().Leases().Informer().GetIndexer(), leases.Items)
	replace(h.t, h.factory.Core().V1().Pods().Informer().GetIndexer(), pods.Items)
	h.client.ClearActions()
}

func replace[T any](t *testing.T, indexer cache.Indexer, items []T) {
	t.Helper()
	objs := make([]any, len(items))
	for i := range items {
		objs[i] = &items[i]
	}
	if err := indexer.Replace(objs, ""); err != nil {
		t.Fatal(err)
	}
}

// syncNode refreshes the caches and syncs one node. It returns the
// requeue delay, or -1 when the controller does not ask to come back.
func (h *harness) syncNode(name string) time.Duration {
	h.t.Helper()
	h.refresh()
	return requeueAfter(h.t, h.c.syncNode(context.Background(), name))
}

// syncPod is syncNode for the eviction of one pod.
func (h *harness) syncPod(key string) time.Duration {
	h.t.Helper()
	h.refresh()
	return requeueAfter(h.t, h.c.syncPod(context.Background(), key))
}

func requeueAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var rq controller.Requeue
	switch {
	case err == nil:
		return -1
	case errors.As(err, &rq):
		return rq.After
	}
	t.Fatalf("sync: %v", err)
	return 0
}

// events returns the Events recorded since the last call.
func (h *harness) events() []string {
	var got []string
	for {
		select {
		case e := <-h.recorder.Events:
			got = append(got, e)
		default:
			return got
		}
	}
}

func (h *harness) node(name string) *corev1.Node {
	h.t.Helper()
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return node
}

// pod returns the pod in namespace default, or nil once it is gone.
func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	pod, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return pod
}

func (h *harness) updateNode(node *corev1.Node) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Nodes().Update(context.Background(), node, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) updatePod(pod *corev1.Pod) {
	h.t.Helper()
	if _, err := h.client.CoreV1().Pods(pod.Namespace).Update(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// renew sets the node's Lease renewTime to now.
func (h *harness) renew(name string) {
	h.t.Helper()
	ctx := context.Background()
	leases := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	lease, err := leases.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	lease.Spec.RenewTime = &metav1.MicroTime{Time: h.clock.Now()}
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// makeNode returns a node whose kubelet reported Ready=ready at heartbeat
// (no conditions when ready is empty).
func makeNode(name string, ready corev1.ConditionStatus, heartbeat time.Time) *corev1.Node {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))}}
	if ready != "" {
		node.Status.Conditions = []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: ready, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.NewTime(heartbeat), LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour)),
		}, {
			Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory",
			LastHeartbeatTime: metav1.NewTime(heartbeat), LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour)),
		}}
	}
	return node
}

func makeLease(name string, renew time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &name, RenewTime: &metav1.MicroTime{Time: renew}},
	}
}

func makePod(name, nodeName string, tolerations ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: nodeName, Tolerations: tolerations,
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func taint(key string, effect corev1.TaintEffect, added time.Time) corev1.Taint {
	at := metav1.NewTime(added)
	return corev1.Taint{Key: key, Effect: effect, TimeAdded: &at}
}

// tolerate is a toleration of NoExecute taints with key ("" for all) that
// lasts forever.
func tolerate(key string) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
}

// tolerateFor is tolerate for seconds.
func tolerateFor(key string, seconds int64) corev1.Toleration {
	t := tolerate(key)
	t.TolerationSeconds = &seconds
	return t
}
