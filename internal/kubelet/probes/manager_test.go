package probes

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeExec answers exec probes from a table: command name -> exit code,
// and counts calls per container ID and command.
type fakeExec struct {
	mu    sync.Mutex
	codes map[string]int32
	calls map[string]int
}

func newFakeExec() *fakeExec {
	return &fakeExec{codes: map[string]int32{}, calls: map[string]int{}}
}

func (f *fakeExec) set(cmd string, code int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[cmd] = code
}

func (f *fakeExec) count(id, cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id+"/"+cmd]
}

func (f *fakeExec) exec(_ context.Context, id string, cmd []string, _ time.Duration) ([]byte, int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id+"/"+cmd[0]]++
	code := f.codes[cmd[0]]
	if code != 0 {
		return []byte(cmd[0] + " says no"), code, nil
	}
	return nil, 0, nil
}

// changes counts onChange calls per pod.
type changes struct {
	mu sync.Mutex
	n  map[types.UID]int
}

func (c *changes) record(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[uid]++
}

func (c *changes) count(uid types.UID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[uid]
}

func execProbe(cmd string, period, delay, success, failure int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{cmd}}},
		PeriodSeconds:       period,
		InitialDelaySeconds: delay,
		SuccessThreshold:    success,
		FailureThreshold:    failure,
		TimeoutSeconds:      1,
	}
}

func probedPod(containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "pod-1"},
		Spec:       corev1.PodSpec{Containers: containers},
		Status:     corev1.PodStatus{PodIP: "127.0.0.1"},
	}
}

// harness runs a Manager in a synctest bubble with a fake clock; step
// advances the clock and waits until every worker is blocked again, so the
// assertions after it see the probes that were due.
type harness struct {
	t       *testing.T
	clock   *clocktesting.FakeClock
	exec    *fakeExec
	changes *changes
	m       *Manager
	cancel  context.CancelFunc
	done    chan struct{}
}

func newHarness(t *testing.T) *harness {
	h := &harness{
		t:       t,
		clock:   clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		exec:    newFakeExec(),
		changes: &changes{n: map[types.UID]int{}},
		done:    make(chan struct{}),
	}
	h.m = NewManager(h.exec.exec, h.clock, h.changes.record)
	return h
}

func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.m.Run(ctx)
	}()
	synctest.Wait()
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func (h *harness) step(d time.Duration) {
	h.clock.Step(d)
	synctest.Wait()
}

func TestReadinessThresholds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.run()
		defer h.stop()
		pod := probedPod(corev1.Container{Name: "app", ReadinessProbe: execProbe("ready", 10, 5, 2, 2)})
		h.m.UpdatePod(pod, map[string]ContainerInfo{"app": {ID: "c1", StartedAt: h.clock.Now()}})
		synctest.Wait()

		if h.exec.count("c1", "ready") != 0 {
			t.Fatal("probed before initialDelaySeconds")
		}
		if h.m.Ready(pod.UID, "app") {
			t.Fatal("ready before any readiness success")
		}
		if !h.m.Started(pod.UID, "app") {
			t.Fatal("a running container without startup probe is not started")
		}
		h.step(5 * time.Second)
		if n := h.exec.count("c1", "ready"); n != 1 {
			t.Fatalf("%d probes after the initial delay, want 1", n)
		}
		if h.m.Ready(pod.UID, "app") {
			t.Fatal("ready after 1 success with successThreshold 2")
		}
		h.step(10 * time.Second)
		if !h.m.Ready(pod.UID, "app") {
			t.Fatal("not ready after 2 successes")
		}
		if h.changes.count(pod.UID) != 1 {
			t.Fatalf("onChange called %d times, want 1", h.changes.count(pod.UID))
		}

		h.exec.set("ready", 1)
		h.step(10 * time.Second)
		if !h.m.Ready(pod.UID, "app") {
			t.Fatal("unready after 1 failure with failureThreshold 2")
		}
		h.step(10 * time.Second)
		if h.m.Ready(pod.UID, "app") {
			t.Fatal("still ready after 2 failures")
		}
		if h.changes.count(pod.UID) != 2 {
			t.Fatalf("onChange called %d times, want 2", h.changes.count(pod.UID))
		}
		// Readiness keeps probing while failing.
		h.exec.set("ready", 0)
		h.step(10 * time.Second)
		h.step(10 * time.Second)
		if !h.m.Ready(pod.UID, "app") {
			t.Fatal("not ready again after 2 successes")
		}
		if h.exec.count("c1", "ready") != 6 {
			t.Fatalf("%d readiness probes, want 6", h.exec.count("c1", "ready"))
		}
	})
}

func TestLivenessFailureAndRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.run()
		defer h.stop()
		pod := probedPod(corev1.Container{Name: "app", LivenessProbe: execProbe("live", 3, 0, 1, 3)})
		h.exec.set("live", 1)
		h.m.UpdatePod(pod, map[string]ContainerInfo{"app": {ID: "c1", StartedAt: h.clock.Now()}})
		synctest.Wait()
		h.step(3 * time.Second)
		if failed, _ := h.m.LivenessFailed(pod.UID, "c1"); failed {
			t.Fatal("liveness failed after 2 failures with failureThreshold 3")
		}
		if !h.m.Ready(pod.UID, "app") {
			t.Fatal("a container without readiness probe is not ready")
		}
		h.step(3 * time.Second)
		failed, msg := h.m.LivenessFailed(pod.UID, "c1")
		if !failed || msg != "live says no" {
			t.Fatalf("LivenessFailed = %v, %q; want true, the command output", failed, msg)
		}
		if h.changes.count(pod.UID) != 1 {
			t.Fatalf("onChange called %d times, want 1", h.changes.count(pod.UID))
		}
		// On hold until the container is replaced.
		h.step(3 * time.Second)
		h.step(3 * time.Second)
		if n := h.exec.count("c1", "live"); n != 3 {
			t.Fatalf("%d liveness probes of the failed container, want 3", n)
		}

		h.exec.set("live", 0)
		h.m.UpdatePod(pod, map[string]ContainerInfo{"app": {ID: "c2", StartedAt: h.clock.Now()}})
		synctest.Wait()
		if failed, _ := h.m.LivenessFailed(pod.UID, "c2"); failed {
			t.Fatal("the new container inherited the liveness failure")
		}
		if failed, _ := h.m.LivenessFailed(pod.UID, "c1"); failed {
			t.Fatal("the old container ID is still known")
		}
		if n := h.exec.count("c2", "live"); n != 1 {
			t.Fatalf("%d probes of the new container right after it started, want 1", n)
		}
		h.step(3 * time.Second)
		if n := h.exec.count("c1", "live"); n != 3 {
			t.Fatalf("the old container's worker still probes (%d)", n)
		}
	})
}

func TestStartupGatesOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		pod := probedPod(
			corev1.Container{
				Name:           "app",
				StartupProbe:   execProbe("start", 1, 0, 1, 30),
				LivenessProbe:  execProbe("live", 10, 0, 1, 3),
				ReadinessProbe: execProbe("ready", 10, 0, 1, 3),
			},
			corev1.Container{Name: "side", StartupProbe: execProbe("start-side", 1, 0, 1, 2)},
		)
		h.exec.set("start", 1)
		h.exec.set("start-side", 1)
		// Workers made before Run start when it does.
		h.m.UpdatePod(pod, map[string]ContainerInfo{"app": {ID: "a1", StartedAt: h.clock.Now()}, "side": {ID: "s1", StartedAt: h.clock.Now()}})
		h.run()
		defer h.stop()
		if n := h.exec.count("a1", "start"); n != 1 {
			t.Fatalf("%d startup probes after Run began, want 1", n)
		}
		for range 3 {
			h.step(time.Second)
		}
		if h.m.Started(pod.UID, "app") || h.m.Ready(pod.UID, "app") {
			t.Fatal("started or ready before the startup probe succeeded")
		}
		if h.exec.count("a1", "live")+h.exec.count("a1", "ready") != 0 {
			t.Fatal("liveness or readiness probed before startup succeeded")
		}
		// A container whose startup probe fails failureThreshold times is
		// reported for a restart.
		if failed, msg := h.m.StartupFailed(pod.UID, "s1"); !failed || msg != "start-side says no" {
			t.Fatalf("StartupFailed(side) = %v, %q; want true", failed, msg)
		}
		if failed, _ := h.m.LivenessFailed(pod.UID, "s1"); failed {
			t.Fatal("a startup failure reported as a liveness failure")
		}
		if h.m.Ready(pod.UID, "side") {
			t.Fatal("side is ready though it never started")
		}

		h.exec.set("start", 0)
		h.step(time.Second)
		if !h.m.Started(pod.UID, "app") {
			t.Fatal("not started after the startup probe succeeded")
		}
		if h.m.Ready(pod.UID, "app") {
			t.Fatal("ready before the readiness probe succeeded")
		}
		startups := h.exec.count("a1", "start")
		h.step(10 * time.Second)
		if !h.m.Ready(pod.UID, "app") {
			t.Fatal("not ready after startup and readiness succeeded")
		}
		if h.exec.count("a1", "live") != 1 {
			t.Fatalf("%d liveness probes after startup, want 1", h.exec.count("a1", "live"))
		}
		if h.exec.count("a1", "start") != startups {
			t.Fatal("the startup probe kept running after it succeeded")
		}
	})
}

func TestStoppedContainersAndRemovePod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.run()
		defer h.stop()
		pod := probedPod(
			corev1.Container{Name: "app", ReadinessProbe: execProbe("ready", 10, 0, 1, 3)},
			corev1.Container{Name: "plain"},
		)
		pod.Spec.InitContainers = []corev1.Container{{
			Name: "sidecar", RestartPolicy: ptrTo(corev1.ContainerRestartPolicyAlways),
			ReadinessProbe: execProbe("ready-sidecar", 10, 0, 1, 3),
		}}
		h.m.UpdatePod(pod, map[string]ContainerInfo{
			"app": {ID: "a1"}, "plain": {ID: "p1"}, "sidecar": {ID: "s1"},
		})
		synctest.Wait()
		if !h.m.Ready(pod.UID, "app") || !h.m.Ready(pod.UID, "plain") || !h.m.Ready(pod.UID, "sidecar") {
			t.Fatal("running containers are not ready")
		}
		if h.exec.count("s1", "ready-sidecar") != 1 {
			t.Fatal("the sidecar's readiness probe did not run")
		}

		// app stopped: not ready, no more probes.
		h.m.UpdatePod(pod, map[string]ContainerInfo{"plain": {ID: "p1"}, "sidecar": {ID: "s1"}})
		synctest.Wait()
		if h.m.Ready(pod.UID, "app") || h.m.Started(pod.UID, "app") {
			t.Fatal("a stopped container is ready or started")
		}
		h.step(10 * time.Second)
		if n := h.exec.count("a1", "ready"); n != 1 {
			t.Fatalf("the stopped container was probed again (%d)", n)
		}

		h.m.RemovePod(pod.UID)
		h.step(10 * time.Second)
		if n := h.exec.count("s1", "ready-sidecar"); n != 2 {
			t.Fatalf("%d sidecar probes, want 2 (none after RemovePod)", n)
		}
		if h.m.Ready(pod.UID, "plain") {
			t.Fatal("a removed pod's container is ready")
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
