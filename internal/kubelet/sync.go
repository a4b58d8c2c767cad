package kubelet

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/kubelet/probes"
)

// Restart back-off, as the kubelet's: 10 s doubling to 5 minutes, reset
// after a container ran for 10 minutes.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
)

// syncPod is the pod worker: one call brings the runtime state of the pod
// with UID key one step closer to its spec and reports its status. The
// loop calls it again when the pod, its containers or its probes change.
func (k *Kubelet) syncPod(ctx context.Context, key string) error {
	uid := types.UID(key)
	pod := k.podByUID(uid)
	logger := klog.FromContext(ctx)
	if pod != nil {
		logger = logger.WithValues("pod", klog.KObj(pod))
		ctx = klog.NewContext(ctx, logger)
	}
	state, err := k.podRuntimeState(ctx, uid)
	if err != nil {
		return err
	}
	switch {
	case pod == nil:
		// Gone from the API server: stop and remove everything at once.
		return k.removePod(ctx, uid, state)
	case pod.DeletionTimestamp != nil:
		return k.terminatePod(ctx, pod, state)
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		// Terminal pods never run again; their containers are stopped.
		return k.stopFinished(ctx, pod, state)
	}
	if ok, err := k.admitPod(ctx, pod, state); !ok {
		return err // rejected (now Failed), or not yet decided
	}
	k.noteStartTime(pod)
	left, hasDeadline := k.deadlineLeft(pod)
	if hasDeadline && left <= 0 {
		return k.failPod(ctx, pod, state, reasonDeadlineExceeded, "Pod was active on the node longer than the specified deadline")
	}
	paths, mountErr := k.volumes.SetUp(ctx, pod)
	if mountErr != nil {
		k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount", "MountVolume.SetUp failed: %v", mountErr)
		if err := k.updateStatus(ctx, pod, state, nil); err != nil {
			return err
		}
		return mountErr
	}
	next, err := k.runPod(ctx, pod, state, paths)
	if err != nil {
		logger.V(2).Info("Pod sync failed", "err", err)
	}
	fresh, stateErr := k.podRuntimeState(ctx, uid)
	if stateErr != nil {
		return stateErr
	}
	k.probes.UpdatePod(pod, runningContainers(fresh))
	if err := k.updateStatus(ctx, pod, fresh, nil); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if hasDeadline && (next == 0 || left < next) {
		next = left
	}
	if next > 0 {
		return controller.Requeue{After: next}
	}
	return nil
}

// reasonDeadlineExceeded is the reason of a pod stopped at its
// activeDeadlineSeconds.
const reasonDeadlineExceeded = "DeadlineExceeded"

// deadlineLeft is how long the pod may still run under its
// activeDeadlineSeconds, counted from when the kubelet took it on.
func (k *Kubelet) deadlineLeft(pod *corev1.Pod) (time.Duration, bool) {
	if pod.Spec.ActiveDeadlineSeconds == nil {
		return 0, false
	}
	k.mu.Lock()
	start := k.startTimes[pod.UID]
	k.mu.Unlock()
	deadline := start.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second)
	return deadline.Sub(k.clock.Now()), true
}

// failPod stops a pod for good (its containers within their grace
// period) and reports it Failed with reason and message.
func (k *Kubelet) failPod(ctx context.Context, pod *corev1.Pod, state *podRuntime, reason, message string) error {
	k.recorder.Event(pod, corev1.EventTypeWarning, reason, message)
	if err := k.stopContainers(ctx, pod, state, podGrace(pod)); err != nil {
		return err
	}
	fresh, err := k.podRuntimeState(ctx, pod.UID)
	if err != nil {
		return err
	}
	return k.updateStatus(ctx, pod, fresh, func(s *corev1.PodStatus) {
		s.Phase, s.Reason, s.Message = corev1.PodFailed, reason, message
		setConditions(pod, s, false, metav1.NewTime(k.clock.Now()))
	})
}

// runningContainers are the running containers of the pod's ready
// sandbox, for the probe workers.
func runningContainers(state *podRuntime) map[string]probes.ContainerInfo {
	out := map[string]probes.ContainerInfo{}
	sb := state.readySandbox()
	if sb == nil {
		return out
	}
	for _, c := range state.containers {
		if c.sandboxID == sb.Id && c.running() {
			if cur, ok := out[c.name]; !ok || cur.ID != c.id {
				out[c.name] = probes.ContainerInfo{ID: c.id, StartedAt: time.Unix(0, c.status.StartedAt)}
			}
		}
	}
	return out
}

// noteStartTime remembers when the kubelet first took the pod on.
func (k *Kubelet) noteStartTime(pod *corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.startTimes[pod.UID]; !ok {
		if pod.Status.StartTime != nil {
			k.startTimes[pod.UID] = pod.Status.StartTime.Time
		} else {
			k.startTimes[pod.UID] = k.clock.Now()
		}
	}
}

// runPod makes sure the pod has a ready sandbox, its init containers ran
// in order and its containers run as restartPolicy says. It returns how
// soon the pod wants another look (a back-off ending), 0 for no timer.
func (k *Kubelet) runPod(ctx context.Context, pod *corev1.Pod, state *podRuntime, paths map[string]string) (time.Duration, error) {
	sandbox := state.readySandbox()
	if sandbox == nil {
		if podFinished(pod, state) {
			return 0, nil // a Never/OnFailure pod whose containers are done gets no new sandbox
		}
		// A new sandbox means new containers: stop what is left of the old.
		if err := k.stopContainers(ctx, pod, state, 0); err != nil {
			return 0, err
		}
		id, err := k.createSandbox(ctx, pod, uint32(len(state.sandboxes)))
		if err != nil {
			k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
			return 0, err
		}
		fresh, err := k.podRuntimeState(ctx, pod.UID)
		if err != nil {
			return 0, err
		}
		*state = *fresh
		if state.readySandbox() == nil || state.readySandbox().Id != id {
			return 0, errors.New("new sandbox is not ready")
		}
		sandbox = state.readySandbox()
	}
	sandboxConfig, podIPs, err := k.sandboxConfigAndIPs(ctx, pod, sandbox)
	if err != nil {
		return 0, err
	}
	run := &podRun{k: k, pod: pod, state: state, sandboxID: sandbox.Id, sandboxConfig: sandboxConfig, podIPs: podIPs, paths: paths}
	initDone, wait, err := run.initContainers(ctx)
	if err != nil || !initDone {
		return wait, err
	}
	resizeWait := run.resize(ctx)
	wait, err = run.containers(ctx)
	return minWait(wait, resizeWait), err
}

// podFinished reports whether a pod that restarts nothing has run all its
// containers to the end (so it needs no sandbox any more).
func podFinished(pod *corev1.Pod, state *podRuntime) bool {
	if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || len(state.sandboxes) == 0 {
		return false
	}
	for i := range pod.Spec.Containers {
		last, _ := state.latest(pod.Spec.Containers[i].Name, "")
		if last == nil || !last.exited() {
			return false
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && last.status.ExitCode != 0 {
			return false
		}
	}
	return true
}

// backoffKey names a container's restart back-off.
func backoffKey(uid types.UID, name string) string { return string(uid) + "/" + name }

func (k *Kubelet) setStartError(uid types.UID, name, reason, message string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.startErrors[backoffKey(uid, name)] = waitingReason{reason: reason, message: message}
}

func (k *Kubelet) clearStartError(uid types.UID, name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.startErrors, backoffKey(uid, name))
}

func (k *Kubelet) startError(uid types.UID, name string) (waitingReason, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	w, ok := k.startErrors[backoffKey(uid, name)]
	return w, ok
}

// forgetPod drops what the kubelet remembers of a pod that is gone.
func (k *Kubelet) forgetPod(pod *corev1.Pod, uid types.UID) {
	k.probes.RemovePod(uid)
	k.resize.forget(uid)
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.startTimes, uid)
	for key := range k.startErrors {
		if len(key) > len(uid) && key[:len(uid)] == string(uid) && key[len(uid)] == '/' {
			delete(k.startErrors, key)
		}
	}
	if pod != nil {
		for _, c := range allContainers(pod) {
			k.backoff.Reset(backoffKey(uid, c.Name))
		}
	}
}

// allContainers lists init then regular containers of pod.
func allContainers(pod *corev1.Pod) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		out = append(out, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}
