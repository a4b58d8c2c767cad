package queue

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func makePod(name string, prio int32) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Priority: &prio, Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
}

func newTestQueue(c clock.Clock, events map[string][]framework.ClusterEvent) *Queue {
	return New(Options{Clock: c, PluginEvents: events})
}

// popAll pops every active pod and returns their names.
func popAll(t *testing.T, q *Queue) []string {
	t.Helper()
	var names []string
	for {
		a, _, _ := q.Len()
		if a == 0 {
			return names
		}
		pi, err := q.Pop(context.Background())
		if err != nil {
			t.Fatalf("Pop: %v", err)
		}
		names = append(names, pi.Pod.Name)
	}
}

func TestPopOrdersByPriorityThenArrival(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	q := newTestQueue(c, nil)
	for _, p := range []struct {
		name string
		prio int32
	}{{"low-1", 0}, {"high-1", 100}, {"low-2", 0}, {"mid", 50}, {"high-2", 100}, {"negative", -5}} {
		q.Add(makePod(p.name, p.prio))
		c.Step(time.Millisecond)
	}
	want := []string{"high-1", "high-2", "mid", "low-1", "low-2", "negative"}
	if diff := cmp.Diff(want, popAll(t, q)); diff != "" {
		t.Errorf("pop order (-want +got):\n%s", diff)
	}
}

func TestBackoffDuration(t *testing.T) {
	for attempts, want := range map[int]time.Duration{
		1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 20: 10 * time.Second,
	} {
		if got := backoffDuration(attempts, time.Second, 10*time.Second); got != want {
			t.Errorf("attempts %d: back-off %v, want %v", attempts, got, want)
		}
	}
}

// fail pops the only active pod and returns it as rejected by plugins (or
// as an internal error when none are given).
func fail(t *testing.T, q *Queue, plugins ...string) *QueuedPodInfo {
	t.Helper()
	pi, err := q.Pop(context.Background())
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	pi.UnschedulablePlugins = sets.New(plugins...)
	q.AddUnschedulableIfNotPresent(pi, len(plugins) > 0)
	return pi
}

func lens(q *Queue) [3]int {
	a, b, u := q.Len()
	return [3]int{a, b, u}
}

func TestBackoffGrowsWithAttempts(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	q := newTestQueue(c, nil)
	q.Add(makePod("p", 0))
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		fail(t, q) // internal error: back-off queue
		c.Step(wait - time.Millisecond)
		q.flushBackoffCompleted()
		if got := lens(q); got != [3]int{0, 1, 0} {
			t.Fatalf("attempt %d: %v before the back-off of %v ended, want it backing off", attempt+1, got, wait)
		}
		c.Step(time.Millisecond)
		q.flushBackoffCompleted()
		if got := lens(q); got != [3]int{1, 0, 0} {
			t.Fatalf("attempt %d: %v after the back-off of %v, want it active", attempt+1, got, wait)
		}
	}
}

var (
	nodeAdd      = framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.Add}
	nodeTaint    = framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.UpdateNodeTaint}
	podDelete    = framework.ClusterEvent{Resource: framework.AssignedPodResource, ActionType: framework.Delete}
	testRegistry = map[string][]framework.ClusterEvent{
		"Fit":   {{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeAllocatable}, podDelete},
		"Taint": {{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}},
	}
)

func TestMoveOnlyOnRegisteredEvents(t *testing.T) {
	tests := []struct {
		name  string
		event framework.ClusterEvent
		moved []string
	}{
		{"node add helps both registered plugins", nodeAdd, []string{"by-fit", "by-fit-and-taint", "by-taint", "by-unregistered"}},
		{"taint change helps only Taint", nodeTaint, []string{"by-fit-and-taint", "by-taint", "by-unregistered"}},
		{"pod delete helps only Fit", podDelete, []string{"by-fit", "by-fit-and-taint", "by-unregistered"}},
		{"label change helps only unregistered plugins",
			framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.UpdateNodeLabel}, []string{"by-unregistered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clocktesting.NewFakeClock(t0)
			q := newTestQueue(c, testRegistry)
			for name, plugins := range map[string][]string{
				"by-fit": {"Fit"}, "by-taint": {"Taint"}, "by-fit-and-taint": {"Fit", "Taint"}, "by-unregistered": {"Other"},
			} {
				q.Add(makePod(name, 0))
				fail(t, q, plugins...)
			}
			if got := lens(q); got != [3]int{0, 0, 4} {
				t.Fatalf("after failures: %v, want 4 parked", got)
			}
			c.Step(time.Second) // back-off over: moved pods become active
			q.MoveOnEvent(tt.event)
			got := popAll(t, q)
			if diff := cmp.Diff(sets.New(tt.moved...), sets.New(got...)); diff != "" {
				t.Errorf("moved pods (-want +got):\n%s", diff)
			}
			if _, _, parked := q.Len(); parked != 4-len(tt.moved) {
				t.Errorf("%d pods parked, want %d", parked, 4-len(tt.moved))
			}
		})
	}
}

func TestMovedPodStillBackingOffGoesToBackoffQueue(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	q := newTestQueue(c, testRegistry)
	q.Add(makePod("p", 0))
	fail(t, q, "Fit")
	c.Step(500 * time.Millisecond)
	q.MoveOnEvent(nodeAdd)
	if got := lens(q); got != [3]int{0, 1, 0} {
		t.Fatalf("%v, want the pod backing off", got)
	}
	c.Step(500 * time.Millisecond)
	q.flushBackoffCompleted()
	if got := lens(q); got != [3]int{1, 0, 0} {
		t.Fatalf("%v, want the pod active", got)
	}
}

func TestEventDuringAttempt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		event framework.ClusterEvent
		want  [3]int
	}{
		{"registered event backs off", nodeAdd, [3]int{0, 1, 0}},
		{"unregistered event parks", nodeTaint, [3]int{0, 0, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
			q.Add(makePod("p", 0))
			pi, err := q.Pop(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			q.MoveOnEvent(tt.event)
			pi.UnschedulablePlugins = sets.New("Fit")
			q.AddUnschedulableIfNotPresent(pi, true)
			if got := lens(q); got != tt.want {
				t.Errorf("queues %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventsBeforeAttemptDoNotCount(t *testing.T) {
	q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
	q.Add(makePod("a", 0))
	q.Add(makePod("b", 0))
	a, _ := q.Pop(context.Background())
	q.MoveOnEvent(nodeAdd) // while a is in flight
	a.UnschedulablePlugins = sets.New("Fit")
	q.AddUnschedulableIfNotPresent(a, true)
	b, _ := q.Pop(context.Background()) // b starts after the event
	b.UnschedulablePlugins = sets.New("Fit")
	q.AddUnschedulableIfNotPresent(b, true)
	if got := lens(q); got != [3]int{0, 1, 1} {
		t.Errorf("queues %v, want a backing off and b parked", got)
	}
}

func TestFlushUnschedulableLeftover(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	q := newTestQueue(c, testRegistry)
	q.Add(makePod("p", 0))
	fail(t, q, "Fit")
	c.Step(DefaultMaxInUnschedulable)
	q.flushUnschedulableLeftover()
	if got := lens(q); got != [3]int{0, 0, 1} {
		t.Fatalf("%v at exactly the time-out, want still parked", got)
	}
	c.Step(time.Second)
	q.flushUnschedulableLeftover()
	if got := lens(q); got != [3]int{1, 0, 0} {
		t.Fatalf("%v after the time-out, want active", got)
	}
}

func TestUpdate(t *testing.T) {
	t.Run("active pod is replaced and reordered", func(t *testing.T) {
		q := newTestQueue(clocktesting.NewFakeClock(t0), nil)
		q.Add(makePod("a", 0))
		q.Add(makePod("b", 0))
		newer := makePod("b", 10)
		newer.Labels = map[string]string{"v": "2"}
		q.Update(makePod("b", 0), newer)
		pi, _ := q.Pop(context.Background())
		if pi.Pod != newer {
			t.Errorf("popped %s %v, want the updated b first", pi.Pod.Name, pi.Pod.Labels)
		}
	})
	t.Run("parked pod with a new status stays parked", func(t *testing.T) {
		q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
		old := makePod("p", 0)
		q.Add(old)
		fail(t, q, "Fit")
		withStatus := old.DeepCopy()
		withStatus.ResourceVersion = "7"
		withStatus.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
		q.Update(old, withStatus)
		if got := lens(q); got != [3]int{0, 0, 1} {
			t.Fatalf("%v, want still parked", got)
		}
		if pi, _ := q.parked.get(podKey(old)); pi.Pod != withStatus {
			t.Errorf("parked pod not replaced by its update")
		}
	})
	t.Run("parked pod with a new spec becomes active", func(t *testing.T) {
		q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
		old := makePod("p", 0)
		q.Add(old)
		fail(t, q, "Fit")
		changed := old.DeepCopy()
		changed.Spec.NodeSelector = map[string]string{"zone": "a"}
		q.Update(old, changed)
		if got := lens(q); got != [3]int{1, 0, 0} {
			t.Fatalf("%v, want active", got)
		}
	})
	t.Run("update during the attempt is kept", func(t *testing.T) {
		q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
		old := makePod("p", 0)
		q.Add(old)
		pi, _ := q.Pop(context.Background())
		changed := old.DeepCopy()
		changed.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		q.Update(old, changed)
		if got := lens(q); got != [3]int{0, 0, 0} {
			t.Fatalf("%v, want the in-flight pod not queued twice", got)
		}
		pi.UnschedulablePlugins = sets.New("Taint")
		q.AddUnschedulableIfNotPresent(pi, true)
		if got := lens(q); got != [3]int{0, 1, 0} {
			t.Fatalf("%v, want the changed pod backing off, not parked", got)
		}
		if got, _ := q.backoff.Get(podKey(old)); got.Pod != changed {
			t.Errorf("queued pod is not the updated one")
		}
	})
}

func TestDelete(t *testing.T) {
	q := newTestQueue(clocktesting.NewFakeClock(t0), testRegistry)
	for _, name := range []string{"active", "parked", "in-flight"} {
		q.Add(makePod(name, 0))
	}
	popAll(t, q)
	for _, name := range []string{"active", "parked"} {
		pi := &QueuedPodInfo{PodInfo: framework.NewPodInfo(makePod(name, 0)), UnschedulablePlugins: sets.New("Fit")}
		q.AddUnschedulableIfNotPresent(pi, true)
	}
	q.Add(makePod("active", 0)) // already parked: an update, it stays
	q.Add(makePod("new", 0))
	for _, name := range []string{"active", "parked", "in-flight", "new"} {
		q.Delete(makePod(name, 0))
	}
	if got := lens(q); got != [3]int{0, 0, 0} {
		t.Errorf("%v after deleting everything, want empty", got)
	}
	q.AddUnschedulableIfNotPresent(&QueuedPodInfo{PodInfo: framework.NewPodInfo(makePod("in-flight", 0))}, false)
	if got := lens(q); got != [3]int{0, 0, 0} {
		t.Errorf("%v: a pod deleted during its attempt came back", got)
	}
}

func TestNominatedPods(t *testing.T) {
	q := newTestQueue(clocktesting.NewFakeClock(t0), nil)
	nominated := makePod("n", 10)
	nominated.Status.NominatedNodeName = "node-1"
	q.Add(nominated)
	q.Add(makePod("plain", 10))
	names := func(node string) []string {
		var out []string
		for _, pi := range q.Nominator().NominatedPodsForNode(node) {
			out = append(out, pi.Pod.Name)
		}
		return out
	}
	if diff := cmp.Diff([]string{"n"}, names("node-1")); diff != "" {
		t.Errorf("nominated to node-1 (-want +got):\n%s", diff)
	}
	// The scheduler nominates in memory before the status write arrives.
	plain := makePod("plain", 10)
	q.Nominator().AddNominatedPod(framework.NewPodInfo(plain), "node-2")
	relabeled := plain.DeepCopy()
	relabeled.Labels = map[string]string{"x": "y"}
	q.Update(plain, relabeled)
	if diff := cmp.Diff([]string{"plain"}, names("node-2")); diff != "" {
		t.Errorf("in-memory nomination lost on update (-want +got):\n%s", diff)
	}
	moved := nominated.DeepCopy()
	moved.Status.NominatedNodeName = "node-2"
	q.Update(nominated, moved)
	if got := names("node-1"); len(got) != 0 {
		t.Errorf("node-1 still has %v", got)
	}
	if diff := cmp.Diff(sets.New("n", "plain"), sets.New(names("node-2")...)); diff != "" {
		t.Errorf("nominated to node-2 (-want +got):\n%s", diff)
	}
	q.Delete(moved)
	if diff := cmp.Diff([]string{"plain"}, names("node-2")); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
}

func TestPopBlocksUntilAPodArrives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newTestQueue(clock.RealClock{}, nil)
		got := make(chan string, 1)
		go func() {
			pi, err := q.Pop(t.Context())
			if err != nil {
				got <- err.Error()
				return
			}
			got <- pi.Pod.Name
		}()
		synctest.Wait()
		select {
		case name := <-got:
			t.Fatalf("Pop returned %q from an empty queue", name)
		default:
		}
		q.Add(makePod("p", 0))
		synctest.Wait()
		if name := <-got; name != "p" {
			t.Errorf("Pop returned %q, want p", name)
		}
	})
}

func TestPopReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newTestQueue(clock.RealClock{}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := q.Pop(ctx)
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Pop: %v, want context.Canceled", err)
		}
	})
}

func TestRunFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newTestQueue(clock.RealClock{}, testRegistry)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			q.Run(ctx)
			close(done)
		}()
		q.Add(makePod("errored", 0))
		fail(t, q)
		q.Add(makePod("parked", 0))
		fail(t, q, "Fit")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if got := lens(q); got != [3]int{1, 0, 1} {
			t.Errorf("%v after the back-off, want the errored pod active", got)
		}
		time.Sleep(DefaultMaxInUnschedulable + unschedulableFlushPeriod)
		synctest.Wait()
		if got := lens(q); got != [3]int{2, 0, 0} {
			t.Errorf("%v after the time-out, want both active", got)
		}
		cancel()
		<-done
	})
}

func TestRejectedWithoutPluginsMovesOnAnyEvent(t *testing.T) {
	c := clocktesting.NewFakeClock(t0)
	q := newTestQueue(c, testRegistry)
	q.Add(makePod("p", 0))
	pi, _ := q.Pop(context.Background())
	q.AddUnschedulableIfNotPresent(pi, true) // e.g. there were no nodes at all
	if got := lens(q); got != [3]int{0, 0, 1} {
		t.Fatalf("%v, want parked", got)
	}
	c.Step(time.Second)
	q.MoveOnEvent(framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.UpdateNodeLabel})
	if got := lens(q); got != [3]int{1, 0, 0} {
		t.Fatalf("%v, want active", got)
	}
}
