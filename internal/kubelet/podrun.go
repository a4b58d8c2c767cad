package kubelet

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// podRun is one sync of a pod whose sandbox is ready.
type podRun struct {
	k             *Kubelet
	pod           *corev1.Pod
	state         *podRuntime
	sandboxID     string
	sandboxConfig *runtimeapi.PodSandboxConfig
	podIPs        []string
	paths         map[string]string
}

// initContainers runs the init containers in order, one at a time; done
// is true once all of them have succeeded (sidecars — restartPolicy
// Always — count once started, and are kept running).
func (r *podRun) initContainers(ctx context.Context) (done bool, wait time.Duration, err error) {
	if r.regularDone() {
		return true, 0, nil // nothing restarts any more, sidecars included
	}
	for i := range r.pod.Spec.InitContainers {
		c := &r.pod.Spec.InitContainers[i]
		sidecar := isSidecar(c)
		last, _ := r.state.latest(c.Name, r.sandboxID)
		switch {
		case last == nil:
			if err := r.start(ctx, c, r.nextAttempt(c.Name), true); err != nil {
				return false, 0, err
			}
			if !sidecar {
				return false, 0, nil
			}
		case last.running():
			if !sidecar {
				return false, 0, nil
			}
			if err := r.checkLiveness(ctx, c, last); err != nil {
				return false, 0, err
			}
		case last.exited() && !sidecar && last.status.ExitCode == 0:
			continue
		case last.exited():
			if !sidecar && r.pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return false, 0, nil // the pod has failed; status says so
			}
			w, err := r.restart(ctx, c, last, true)
			if err != nil || !sidecar {
				return false, w, err
			}
			if w > 0 {
				wait = minWait(wait, w)
			}
		default: // created but not started: start it
			if err := r.startCreated(ctx, c, last); err != nil {
				return false, 0, err
			}
			if !sidecar {
				return false, 0, nil
			}
		}
	}
	return true, wait, nil
}

// containers starts the pod's containers that are not running and may
// run, restarts those whose liveness failed, and returns the earliest
// back-off end.
func (r *podRun) containers(ctx context.Context) (time.Duration, error) {
	var wait time.Duration
	var firstErr error
	for i := range r.pod.Spec.Containers {
		c := &r.pod.Spec.Containers[i]
		last, _ := r.state.latest(c.Name, r.sandboxID)
		var w time.Duration
		var err error
		switch {
		case last == nil:
			if _, prior := r.state.latest(c.Name, ""); prior != nil && !r.shouldRestart(prior) {
				continue // ran to the end in an earlier sandbox
			}
			err = r.start(ctx, c, r.nextAttempt(c.Name), false)
		case last.running():
			err = r.checkLiveness(ctx, c, last)
		case last.exited():
			if !r.shouldRestart(last) {
				continue
			}
			w, err = r.restart(ctx, c, last, false)
		default:
			err = r.startCreated(ctx, c, last)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if w > 0 {
			wait = minWait(wait, w)
		}
	}
	if firstErr == nil && r.regularDone() {
		firstErr = r.stopSidecars(ctx)
	}
	if err := r.ephemeralContainers(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	return wait, firstErr
}

// ephemeralContainers starts the ephemeral containers added to the pod
// (kubectl debug); they run once and are never restarted.
func (r *podRun) ephemeralContainers(ctx context.Context) error {
	for i := range r.pod.Spec.EphemeralContainers {
		c := ephemeralAsContainer(&r.pod.Spec.EphemeralContainers[i])
		if last, _ := r.state.latest(c.Name, r.sandboxID); last != nil {
			continue
		}
		if err := r.start(ctx, c, 0, false); err != nil {
			return err
		}
	}
	return nil
}

// ephemeralAsContainer is an ephemeral container as a container: the
// common fields are the same.
func ephemeralAsContainer(ec *corev1.EphemeralContainer) *corev1.Container {
	c := corev1.Container(ec.EphemeralContainerCommon)
	return &c
}

// regularDone reports whether the pod's regular containers have all
// exited for good in this sandbox (never with restartPolicy Always).
func (r *podRun) regularDone() bool {
	if r.pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return false
	}
	for i := range r.pod.Spec.Containers {
		last, _ := r.state.latest(r.pod.Spec.Containers[i].Name, r.sandboxID)
		if last == nil || !last.exited() || r.shouldRestart(last) {
			return false
		}
	}
	return true
}

// stopSidecars stops the running sidecars of a pod whose regular
// containers have finished, so the pod can complete.
func (r *podRun) stopSidecars(ctx context.Context) error {
	for i := range r.pod.Spec.InitContainers {
		c := &r.pod.Spec.InitContainers[i]
		if !isSidecar(c) {
			continue
		}
		if last, _ := r.state.latest(c.Name, r.sandboxID); last != nil && last.running() {
			if err := r.k.stopContainer(ctx, r.pod, c, last, podGrace(r.pod)); err != nil {
				return err
			}
		}
	}
	return nil
}

func minWait(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// nextAttempt is one more than the highest attempt of container name in
// any sandbox, so restart counts survive a new sandbox.
func (r *podRun) nextAttempt(name string) uint32 {
	last, _ := r.state.latest(name, "")
	if last == nil {
		return 0
	}
	return last.attempt + 1
}

// shouldRestart applies the pod's restartPolicy to an exited container.
func (r *podRun) shouldRestart(c *containerState) bool {
	switch r.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.status.ExitCode != 0
	default:
		return true
	}
}

// restart starts a new instance of an exited container unless its back-off
// holds it, and returns how long the back-off still has.
func (r *podRun) restart(ctx context.Context, c *corev1.Container, last *containerState, init bool) (time.Duration, error) {
	k := r.k
	key := backoffKey(r.pod.UID, c.Name)
	finished := time.Unix(0, last.status.FinishedAt)
	now := k.clock.Now()
	// A container that ran long enough earns a fresh back-off.
	started := time.Unix(0, last.status.StartedAt)
	if finished.Sub(started) >= 2*backoffMax {
		k.backoff.Reset(key)
	}
	if k.backoff.IsInBackOffSince(key, finished) {
		remaining := k.backoff.Get(key) - now.Sub(finished)
		msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
			k.backoff.Get(key), c.Name, r.pod.Name, r.pod.Namespace, r.pod.UID)
		k.setStartError(r.pod.UID, c.Name, "CrashLoopBackOff", msg)
		k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
			c.Name, r.pod.Name, r.pod.Namespace, r.pod.UID)
		if remaining < 10*time.Millisecond {
			remaining = 10 * time.Millisecond
		}
		return remaining, nil
	}
	k.backoff.Next(key, finished)
	if err := r.start(ctx, c, last.attempt+1, init); err != nil {
		return 0, err
	}
	// Keep one exited instance for `kubectl logs --previous`.
	k.removeOlderInstances(ctx, r.state, c.Name, last)
	return 0, nil
}

// checkLiveness restarts a running container whose liveness or startup
// probe failed, as the restart policy allows.
func (r *podRun) checkLiveness(ctx context.Context, c *corev1.Container, cur *containerState) error {
	probe := "liveness"
	failed, message := r.k.probes.LivenessFailed(r.pod.UID, cur.id)
	if !failed {
		probe = "startup"
		if failed, message = r.k.probes.StartupFailed(r.pod.UID, cur.id); !failed {
			return nil
		}
	}
	k := r.k
	k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", strings.ToUpper(probe[:1])+probe[1:], message)
	k.recorder.Eventf(r.pod, corev1.EventTypeNormal, "Killing", "Container %s failed %s probe, will be restarted", c.Name, probe)
	klog.FromContext(ctx).V(2).Info("Restarting container after failed probe", "container", c.Name, "message", message)
	if err := k.stopContainer(ctx, r.pod, c, cur, gracePeriodOf(cur, podGrace(r.pod))); err != nil {
		return err
	}
	// The next sync sees it exited and restarts it (or not) by policy.
	k.loop.Enqueue(string(r.pod.UID))
	return nil
}

// removeOlderInstances removes exited instances of container name older
// than keep.
func (k *Kubelet) removeOlderInstances(ctx context.Context, state *podRuntime, name string, keep *containerState) {
	for _, c := range state.containers {
		if c.name == name && c.attempt < keep.attempt && c.exited() {
			if _, err := k.runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.id}); err != nil {
				klog.FromContext(ctx).V(2).Info("Removing old container failed", "container", c.id, "err", err)
			}
		}
	}
}

// podGrace is the pod's termination grace period in seconds.
func podGrace(pod *corev1.Pod) int64 {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}
