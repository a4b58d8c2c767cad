package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// minStopTimeout is the least time a container gets after its preStop
// hook, as the kubelet's minimum grace period.
const minStopTimeout = 2

// stopContainer runs c's preStop hook (c may be nil for a container no
// longer in the spec), then stops the container, SIGTERM first and
// SIGKILL after what is left of grace seconds.
func (k *Kubelet) stopContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, cs *containerState, grace int64) error {
	start := k.clock.Now()
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 && cs.running() {
		hookCtx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
		msg, err := k.runHook(hookCtx, pod, c, cs.id, c.Lifecycle.PreStop, podIPsOf(pod))
		cancel()
		if err != nil {
			k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %s", msg)
		}
		grace -= int64(k.clock.Since(start) / time.Second)
		if grace < minStopTimeout {
			grace = minStopTimeout
		}
	}
	if c != nil {
		k.recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
	}
	_, err := k.runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: cs.id, Timeout: grace})
	if err != nil {
		return fmt.Errorf("stop container %s: %w", cs.name, err)
	}
	return nil
}

func podIPsOf(pod *corev1.Pod) []string {
	var ips []string
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && pod.Status.PodIP != "" {
		ips = append(ips, pod.Status.PodIP)
	}
	return ips
}

// stopContainers stops the pod's running containers: the regular ones at
// once, then the sidecars (restartable init containers) one by one in
// reverse order, as upstream's kubelet does, so that what a regular
// container's preStop hook or shutdown still needs from a sidecar is
// there. Each gets grace seconds, what is left of them for the sidecars
// (a container's own grace period when grace is negative).
func (k *Kubelet) stopContainers(ctx context.Context, pod *corev1.Pod, state *podRuntime, grace int64) error {
	specs := map[string]*corev1.Container{}
	var sidecarOrder []string
	if pod != nil {
		for _, c := range allContainers(pod) {
			specs[c.Name] = c
		}
		for i := range pod.Spec.InitContainers {
			if c := &pod.Spec.InitContainers[i]; isSidecar(c) {
				sidecarOrder = append(sidecarOrder, c.Name)
			}
		}
	}
	var regular []*containerState
	sidecars := map[string][]*containerState{}
	for _, cs := range state.containers {
		if !cs.running() && cs.status.State != runtimeapi.ContainerState_CONTAINER_CREATED {
			continue
		}
		if slices.Contains(sidecarOrder, cs.name) {
			sidecars[cs.name] = append(sidecars[cs.name], cs)
		} else {
			regular = append(regular, cs)
		}
	}
	start := k.clock.Now()
	errs := []error{k.stopAll(ctx, pod, specs, regular, grace)}
	for i := len(sidecarOrder) - 1; i >= 0; i-- {
		left := grace
		if grace >= 0 {
			left = max(grace-int64(k.clock.Since(start)/time.Second), minStopTimeout)
		}
		errs = append(errs, k.stopAll(ctx, pod, specs, sidecars[sidecarOrder[i]], left))
	}
	return errors.Join(errs...)
}

// stopAll stops containers at once, each with grace seconds (its own
// grace period when grace is negative).
func (k *Kubelet) stopAll(ctx context.Context, pod *corev1.Pod, specs map[string]*corev1.Container, containers []*containerState, grace int64) error {
	var wg sync.WaitGroup
	errs := make([]error, len(containers))
	for i, cs := range containers {
		g := grace
		if g < 0 {
			g = gracePeriodOf(cs, corev1.DefaultTerminationGracePeriodSeconds)
		}
		wg.Go(func() {
			if pod == nil {
				_, errs[i] = k.runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: cs.id, Timeout: g})
				return
			}
			errs[i] = k.stopContainer(ctx, pod, specs[cs.name], cs, g)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// terminatePod stops a pod being deleted, within its deletion grace
// period, on a goroutine of its own so that a long grace period holds no
// worker; when everything has stopped it reports the final status and
// deletes the pod for good.
func (k *Kubelet) terminatePod(ctx context.Context, pod *corev1.Pod, state *podRuntime) error {
	k.mu.Lock()
	busy := k.terminating[pod.UID]
	if !busy {
		k.terminating[pod.UID] = true
	}
	k.mu.Unlock()
	if busy {
		return nil
	}
	grace := podGrace(pod)
	if pod.DeletionGracePeriodSeconds != nil {
		grace = *pod.DeletionGracePeriodSeconds
	}
	k.terminations.Go(func() {
		defer func() {
			k.mu.Lock()
			delete(k.terminating, pod.UID)
			k.mu.Unlock()
		}()
		if err := k.finishPod(ctx, pod, state, grace); err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).V(2).Info("Terminating pod failed; retrying", "err", err)
			k.loop.Enqueue(string(pod.UID)) // through the queue's rate limit: the next sync retries
		}
	})
	return nil
}

// finishPod stops the pod's containers and sandboxes, reports their final
// state, and deletes the pod object.
func (k *Kubelet) finishPod(ctx context.Context, pod *corev1.Pod, state *podRuntime, grace int64) error {
	if err := k.stopContainers(ctx, pod, state, grace); err != nil {
		return err
	}
	if err := k.stopSandboxes(ctx, state); err != nil {
		return err
	}
	fresh, err := k.podRuntimeState(ctx, pod.UID)
	if err != nil {
		return err
	}
	if err := k.updateStatus(ctx, pod, fresh, finalPhase); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err = k.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod: %w", err)
	}
	return nil
}

// finalPhase sets the terminal phase of a pod that was deleted while it
// ran: Succeeded when every container exited 0, else Failed.
func finalPhase(s *corev1.PodStatus) {
	if s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed {
		return
	}
	ok := len(s.ContainerStatuses) > 0
	for _, cs := range s.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
			ok = false
		}
	}
	if ok {
		s.Phase = corev1.PodSucceeded
	} else {
		s.Phase = corev1.PodFailed
	}
}

// stopSandboxes stops every ready sandbox in state.
func (k *Kubelet) stopSandboxes(ctx context.Context, state *podRuntime) error {
	for _, sb := range state.sandboxes {
		if sb.State != runtimeapi.PodSandboxState_SANDBOX_READY {
			continue
		}
		if _, err := k.runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("stop sandbox: %w", err)
		}
	}
	return nil
}

// stopFinished stops what is left of a pod in a terminal phase.
func (k *Kubelet) stopFinished(ctx context.Context, pod *corev1.Pod, state *podRuntime) error {
	if err := k.stopContainers(ctx, pod, state, podGrace(pod)); err != nil {
		return err
	}
	if err := k.stopSandboxes(ctx, state); err != nil {
		return err
	}
	k.probes.RemovePod(pod.UID)
	return nil
}

// removePod removes every trace of a pod that is gone from the API
// server: containers, sandboxes, volumes and logs.
func (k *Kubelet) removePod(ctx context.Context, uid types.UID, state *podRuntime) error {
	k.mu.Lock()
	busy := k.terminating[uid]
	k.mu.Unlock()
	if busy {
		return nil // the termination goroutine enqueues the pod when done
	}
	if err := k.stopContainers(ctx, nil, state, minStopTimeout); err != nil {
		return err
	}
	var logDirs []string
	for _, sb := range state.sandboxes {
		if _, err := k.runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("stop sandbox: %w", err)
		}
		if _, err := k.runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("remove sandbox: %w", err)
		}
		if md := sb.Metadata; md != nil {
			logDirs = append(logDirs, k.podLogDir(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: md.Name, Namespace: md.Namespace, UID: types.UID(md.Uid)}}))
		}
	}
	if err := k.volumes.TearDown(ctx, uid); err != nil {
		return err
	}
	for _, dir := range logDirs {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove logs: %w", err)
		}
	}
	k.forgetPod(nil, uid)
	if len(state.sandboxes) > 0 {
		klog.FromContext(ctx).V(2).Info("Removed pod", "uid", uid)
	}
	return nil
}
