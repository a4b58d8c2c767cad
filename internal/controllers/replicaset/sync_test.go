package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// harness runs one controller against a fake clientset with real
// informers, calling sync directly.
type harness struct {
	t      *testing.T
	ctx    context.Context
	client *fake.Clientset
	c      *Controller
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	var seq atomic.Int64
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		pod := action.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if pod.Name == "" {
			// The fake has no generateName; the API server does.
			pod.Name = fmt.Sprintf("%s%d", pod.GenerateName, seq.Add(1))
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := NewReplicaSets(Config{
		Client: client, Pods: factory.Core().V1().Pods(),
		Clock: clocktesting.NewFakePassiveClock(t0), Recorder: events.NewFakeRecorder(100),
	}, factory.Apps().V1().ReplicaSets())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		t.Fatal("caches did not sync")
	}
	return &harness{t: t, ctx: ctx, client: client, c: c}
}

// sync runs one sync of key; a requeue is success.
func (h *harness) sync(key string) {
	h.t.Helper()
	var requeue controller.Requeue
	if err := h.c.sync(h.ctx, key); err != nil && !errors.As(err, &requeue) {
		h.t.Fatalf("sync %s: %v", key, err)
	}
}

func (h *harness) pods() []corev1.Pod {
	h.t.Helper()
	list, err := h.client.CoreV1().Pods("ns").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return list.Items
}

func testRS(n int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs-uid", Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(n),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
}

func TestSyncCreatesAdoptsAndReleases(t *testing.T) {
	rs := testRS(3)
	orphan := testPod("orphan", withLabels(map[string]string{"app": "web"}))
	relabeled := testPod("relabeled", withLabels(map[string]string{"app": "other"}))
	relabeled.OwnerReferences = []metav1.OwnerReference{controllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	stranger := testPod("stranger", withLabels(map[string]string{"app": "web"}))
	stranger.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: "x", Controller: ptr.To(true)}}
	h := newHarness(t, rs, orphan, relabeled, stranger)

	h.sync("ns/web")
	owners := map[string]string{}
	for _, p := range h.pods() {
		owner := ""
		if ref := metav1.GetControllerOf(&p); ref != nil {
			owner = string(ref.UID)
		}
		owners[p.Name] = owner
	}
	want := map[string]string{
		"orphan": "rs-uid", "relabeled": "", "stranger": "x", "web-1": "rs-uid", "web-2": "rs-uid",
	}
	if diff := cmp.Diff(want, owners); diff != "" {
		t.Errorf("pod owners (-want +got):\n%s", diff)
	}
}

func TestSyncScalesDownUnreadyFirst(t *testing.T) {
	rs := testRS(1)
	ref := controllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
	var objs []runtime.Object
	objs = append(objs, rs)
	for _, p := range []*corev1.Pod{
		testPod("ready", withLabels(rs.Spec.Template.Labels), onNode("n1"), readySince(t0)),
		testPod("unready", withLabels(rs.Spec.Template.Labels), onNode("n1"), phase(corev1.PodRunning)),
		testPod("pending", withLabels(rs.Spec.Template.Labels)),
	} {
		p.OwnerReferences = []metav1.OwnerReference{ref}
		objs = append(objs, p)
	}
	h := newHarness(t, objs...)
	h.sync("ns/web")
	var left []string
	for _, p := range h.pods() {
		left = append(left, p.Name)
	}
	if diff := cmp.Diff([]string{"ready"}, left); diff != "" {
		t.Errorf("pods left (-want +got):\n%s", diff)
	}
	got, err := h.client.AppsV1().ReplicaSets("ns").Get(h.ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Status reports the pods the sync started from.
	if got.Status.Replicas != 3 || got.Status.ReadyReplicas != 1 || got.Status.ObservedGeneration != 1 {
		t.Errorf("status = %+v, want 3 replicas, 1 ready, generation 1", got.Status)
	}
}

func TestSyncReportsCreateFailure(t *testing.T) {
	h := newHarness(t, testRS(5))
	var calls atomic.Int64
	h.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("exceeded quota: pods=0"))
	})
	var requeue controller.Requeue
	err := h.c.sync(h.ctx, "ns/web")
	if err == nil || errors.As(err, &requeue) {
		t.Fatalf("sync = %v, want the create error", err)
	}
	// Slow start: the first batch of one failed, so nothing more was sent.
	if n := calls.Load(); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
	rs, err := h.client.AppsV1().ReplicaSets("ns").Get(h.ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Status.Conditions) != 1 || rs.Status.Conditions[0].Type != appsv1.ReplicaSetReplicaFailure ||
		rs.Status.Conditions[0].Reason != "FailedCreate" {
		t.Errorf("conditions = %+v, want ReplicaFailure FailedCreate", rs.Status.Conditions)
	}
	// The failed create will never be observed: the next sync may retry.
	if !h.c.exp.satisfied("ns/web") {
		t.Error("expectations still wait for the failed creates")
	}
}
