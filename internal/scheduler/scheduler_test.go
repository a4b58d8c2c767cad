package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"

	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// bindLikeTheAPIServer makes the fake clientset's pods/binding set the
// pod's node, as the API server does.
func bindLikeTheAPIServer(client *fake.Clientset) {
	podsGVR := corev1.SchemeGroupVersion.WithResource("pods")
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, apiruntime.Object, error) {
		create := action.(clienttesting.CreateAction)
		if create.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := create.GetObject().(*corev1.Binding)
		obj, err := client.Tracker().Get(podsGVR, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*corev1.Pod).DeepCopy()
		if pod.Spec.NodeName != "" {
			return true, nil, apierrors.NewConflict(podsGVR.GroupResource(), pod.Name, nil)
		}
		pod.Spec.NodeName = b.Target.Name
		return true, b, client.Tracker().Update(podsGVR, pod, b.Namespace)
	})
}

func TestSchedulerBindsAndReportsFailures(t *testing.T) {
	recorder := events.NewFakeRecorder(100)
	profile := runtime.Profile{Filter: []string{"Fit"}, Bind: []string{"Binder"}}
	s, client := newTestScheduler(t, profile, []*testPlugin{cpuFit()}, func(o *Options) { o.EventRecorder = recorder })
	bindLikeTheAPIServer(client)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	defer func() {
		cancel()
		wg.Wait()
	}()

	for _, n := range []*corev1.Node{makeNode("n1", "2", nil), makeNode("n2", "2", nil)} {
		if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	other := makePod("other", "1")
	other.Spec.SchedulerName = "my-scheduler"
	for _, p := range []*corev1.Pod{makePod("fits", "1"), makePod("too-big", "3"), other} {
		if _, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(name string) *corev1.Pod {
		p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return cond(), nil
		})
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	waitFor("the fitting pod to be bound", func() bool { return get("fits").Spec.NodeName != "" })
	waitFor("the big pod's condition", func() bool { return len(get("too-big").Status.Conditions) > 0 })
	cond := get("too-big").Status.Conditions[0]
	if cond.Type != corev1.PodScheduled || cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable ||
		cond.Message != "0/2 nodes are available: 2 Insufficient cpu." {
		t.Errorf("condition %+v", cond)
	}

	seen := map[string]bool{}
	waitFor("both events", func() bool {
		for {
			select {
			case e := <-recorder.Events:
				seen[e] = true
			default:
				return len(seen) >= 2
			}
		}
	})
	node := get("fits").Spec.NodeName
	for _, want := range []string{
		"Normal Scheduled Successfully assigned default/fits to " + node,
		"Warning FailedScheduling 0/2 nodes are available: 2 Insufficient cpu.",
	} {
		if !seen[want] {
			t.Errorf("no event %q in %v", want, seen)
		}
	}

	// A node big enough arrives: the parked pod is retried once its
	// back-off ends and lands there.
	if _, err := client.CoreV1().Nodes().Create(ctx, makeNode("big", "4", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("the big pod to be bound", func() bool { return get("too-big").Spec.NodeName == "big" })
	if get("other").Spec.NodeName != "" {
		t.Errorf("a pod of another scheduler was bound")
	}
}
