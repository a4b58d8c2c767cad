package kubelet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/kubelet/logs"
)

// maxTerminationMessage bounds what is read of a termination message file.
const maxTerminationMessage = 4096

// updateStatus computes the pod's status from the runtime state and
// writes it when it differs from what the API server has; mutate, when
// set, edits it last.
func (k *Kubelet) updateStatus(ctx context.Context, pod *corev1.Pod, state *podRuntime, mutate func(*corev1.PodStatus)) error {
	status := k.podStatus(ctx, pod, state)
	if mutate != nil {
		mutate(status)
	}
	if apiequality.Semantic.DeepEqual(&pod.Status, status) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = *status
	_, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// podStatus is the status of pod as the runtime state shows it.
func (k *Kubelet) podStatus(ctx context.Context, pod *corev1.Pod, state *podRuntime) *corev1.PodStatus {
	s := pod.Status.DeepCopy()
	s.QOSClass = qosClass(pod)
	now := metav1.NewTime(k.clock.Now())
	k.mu.Lock()
	if t, ok := k.startTimes[pod.UID]; ok && s.StartTime == nil {
		s.StartTime = &metav1.Time{Time: t}
	}
	k.mu.Unlock()
	if s.StartTime == nil {
		s.StartTime = &now
	}
	s.HostIP = k.cfg.NodeIPs[0].String()
	s.HostIPs = nil
	for _, ip := range k.cfg.NodeIPs {
		s.HostIPs = append(s.HostIPs, corev1.HostIP{IP: ip.String()})
	}
	sandbox := state.readySandbox()
	if sandbox != nil {
		if ips, err := k.sandboxIPs(ctx, pod, sandbox.Id); err == nil && len(ips) > 0 {
			s.PodIP = ips[0]
			s.PodIPs = nil
			for _, ip := range ips {
				s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
			}
		}
	}
	sandboxID := ""
	if sandbox != nil {
		sandboxID = sandbox.Id
	}
	s.InitContainerStatuses = k.containerStatuses(pod, pod.Spec.InitContainers, state, sandboxID, pod.Status.InitContainerStatuses, true)
	s.ContainerStatuses = k.containerStatuses(pod, pod.Spec.Containers, state, sandboxID, pod.Status.ContainerStatuses, false)
	if len(pod.Spec.EphemeralContainers) > 0 {
		ephemeral := make([]corev1.Container, 0, len(pod.Spec.EphemeralContainers))
		for i := range pod.Spec.EphemeralContainers {
			ephemeral = append(ephemeral, *ephemeralAsContainer(&pod.Spec.EphemeralContainers[i]))
		}
		s.EphemeralContainerStatuses = k.containerStatuses(pod, ephemeral, state, sandboxID, pod.Status.EphemeralContainerStatuses, false)
	}
	s.Phase = podPhase(pod, s)
	s.ObservedGeneration = pod.Generation
	setConditions(pod, s, sandbox != nil, now)
	k.setResizeConditions(pod, state, s, now)
	return s
}

// containerStatuses reports the spec's containers from the runtime.
func (k *Kubelet) containerStatuses(pod *corev1.Pod, specs []corev1.Container, state *podRuntime, sandboxID string,
	old []corev1.ContainerStatus, init bool) []corev1.ContainerStatus {
	if len(specs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(specs))
	// Containers not created yet wait for the pod's init containers, as
	// the kubelet reports it, whenever the pod has any.
	initializing := len(pod.Spec.InitContainers) > 0
	for i := range specs {
		c := &specs[i]
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: new(bool), AllocatedResources: k.allocatedResources(pod, c).Requests}
		last, previous := state.latest(c.Name, "")
		if last != nil {
			cs.RestartCount = int32(last.attempt)
			cs.ContainerID = k.cfg.RuntimeName + "://" + last.id
			cs.ImageID = last.status.ImageRef
			if last.status.Image != nil && last.status.Image.Image != "" && !strings.HasPrefix(last.status.Image.Image, "sha256:") {
				cs.Image = last.status.Image.Image
			}
		}
		switch {
		case last == nil:
			reason := reasonContainerCreating
			if initializing {
				reason = reasonPodInitializing
			}
			w := &corev1.ContainerStateWaiting{Reason: reason}
			if e, ok := k.startError(pod.UID, c.Name); ok {
				w = &corev1.ContainerStateWaiting{Reason: e.reason, Message: e.message}
			}
			cs.State.Waiting = w
		case last.running():
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: nanoTime(last.status.StartedAt)}
			applied := k.appliedResources(pod, c, last)
			cs.Resources = &corev1.ResourceRequirements{Requests: applied.Requests, Limits: applied.Limits}
			started := k.probes.Started(pod.UID, c.Name)
			cs.Started = &started
			cs.Ready = started && k.probes.Ready(pod.UID, c.Name)
		case last.exited():
			term := k.terminated(last)
			// A completed init container counts as ready.
			cs.Ready = init && !isSidecar(c) && term.ExitCode == 0
			if e, ok := k.startError(pod.UID, c.Name); ok && sandboxID != "" && e.reason == "CrashLoopBackOff" {
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: e.reason, Message: e.message}
				cs.LastTerminationState.Terminated = term
			} else {
				cs.State.Terminated = term
			}
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reasonContainerCreating}
			if e, ok := k.startError(pod.UID, c.Name); ok {
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: e.reason, Message: e.message}
			}
		}
		if cs.LastTerminationState.Terminated == nil && previous != nil && previous.exited() {
			cs.LastTerminationState.Terminated = k.terminated(previous)
		}
		if cs.LastTerminationState.Terminated == nil {
			// Keep the last state the API server had: the old container
			// may have been removed since.
			for _, o := range old {
				if o.Name == c.Name && o.RestartCount == cs.RestartCount {
					cs.LastTerminationState = o.LastTerminationState
				}
			}
		}
		out = append(out, cs)
	}
	return out
}

// terminated is an exited container's terminated state.
func (k *Kubelet) terminated(c *containerState) *corev1.ContainerStateTerminated {
	st := c.status
	t := &corev1.ContainerStateTerminated{
		ExitCode:    st.ExitCode,
		Reason:      st.Reason,
		Message:     st.Message,
		StartedAt:   nanoTime(st.StartedAt),
		FinishedAt:  nanoTime(st.FinishedAt),
		ContainerID: k.cfg.RuntimeName + "://" + c.id,
	}
	if t.Reason == "" {
		t.Reason = "Error"
		if t.ExitCode == 0 {
			t.Reason = "Completed"
		}
	}
	msg := ""
	if path := st.Annotations[annotationMessagePath]; path != "" {
		msg = readMessage(path)
	}
	if msg == "" && t.ExitCode != 0 && st.Annotations[annotationMessagePolicy] == string(corev1.TerminationMessageFallbackToLogsOnError) {
		msg = logTail(st.LogPath)
	}
	if msg != "" {
		if t.Message != "" {
			t.Message += ": "
		}
		t.Message += msg
	}
	return t
}

// Bounds of a termination message taken from the container's log.
const (
	maxMessageLogLines = 80
	maxMessageLogBytes = 2048
)

// logTail is the end of a container's log, for FallbackToLogsOnError.
func logTail(path string) string {
	if path == "" {
		return ""
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = logs.ReadLogs(ctx, path, logs.Options{TailLines: ptr.To[int64](maxMessageLogLines)}, &buf, &buf)
	out := buf.Bytes()
	if len(out) > maxMessageLogBytes {
		out = out[len(out)-maxMessageLogBytes:]
	}
	return string(out)
}

// readMessage reads the end of a container's termination message file:
// its last maxTerminationMessage bytes.
func readMessage(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxTerminationMessage {
		if _, err := f.Seek(fi.Size()-maxTerminationMessage, io.SeekStart); err != nil {
			return ""
		}
	}
	data, _ := io.ReadAll(io.LimitReader(f, maxTerminationMessage))
	return string(data)
}

func nanoTime(ns int64) metav1.Time {
	if ns == 0 {
		return metav1.Time{}
	}
	return metav1.NewTime(time.Unix(0, ns).Truncate(time.Second))
}

// podPhase follows the kubelet's rules: Pending until init containers are
// done and containers started; Running while any runs or will restart;
// Succeeded when all exited 0; Failed when any failed for good.
func podPhase(pod *corev1.Pod, s *corev1.PodStatus) corev1.PodPhase {
	initPending := 0
	for i, c := range pod.Spec.InitContainers {
		if i >= len(s.InitContainerStatuses) {
			break
		}
		st := s.InitContainerStatuses[i]
		sidecar := isSidecar(&c)
		switch {
		case sidecar && st.State.Running != nil:
		case !sidecar && st.State.Terminated != nil && st.State.Terminated.ExitCode == 0:
		case !sidecar && st.State.Terminated != nil && pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		default:
			initPending++
		}
	}
	var running, waiting, stopped, succeeded int
	// A running sidecar keeps the pod running: the kubelet stops sidecars
	// only after the regular containers have finished.
	for i, c := range pod.Spec.InitContainers {
		if isSidecar(&c) && i < len(s.InitContainerStatuses) && s.InitContainerStatuses[i].State.Running != nil {
			running++
		}
	}
	for _, st := range s.ContainerStatuses {
		switch {
		case st.State.Running != nil:
			running++
		case st.State.Terminated != nil:
			stopped++
			if st.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case st.State.Waiting != nil && st.LastTerminationState.Terminated != nil:
			stopped++
		default:
			waiting++
		}
	}
	switch {
	case initPending > 0 && running == 0 && stopped == 0:
		return corev1.PodPending
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch pod.Spec.RestartPolicy {
		case corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodRunning
		default:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
	}
	return corev1.PodPending
}

// setConditions writes the pod's kubelet-owned conditions, keeping the
// transition time of those whose status did not change and every
// condition others own.
func setConditions(pod *corev1.Pod, s *corev1.PodStatus, sandboxReady bool, now metav1.Time) {
	want := []corev1.PodCondition{
		boolCondition(corev1.PodReadyToStartContainers, sandboxReady, "", ""),
		initializedCondition(pod, s),
	}
	containersReady := containersReadyCondition(pod, s)
	want = append(want, readyCondition(pod, s, containersReady), containersReady)
	for i := range want {
		want[i].ObservedGeneration = pod.Generation
		want[i].LastTransitionTime = now
		for _, old := range s.Conditions {
			if old.Type == want[i].Type && old.Status == want[i].Status {
				want[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	out := append([]corev1.PodCondition(nil), want...)
	for _, c := range s.Conditions {
		owned := false
		for _, w := range want {
			if w.Type == c.Type {
				owned = true
			}
		}
		if !owned {
			out = append(out, c)
		}
	}
	s.Conditions = out
}

// Reasons of the kubelet's pod conditions.
const (
	reasonPodCompleted             = "PodCompleted"
	reasonPodFailed                = "PodFailed"
	reasonContainersNotReady       = "ContainersNotReady"
	reasonContainersNotInitialized = "ContainersNotInitialized"
	reasonReadinessGatesNotReady   = "ReadinessGatesNotReady"
)

// isSidecar reports whether init container c restarts always.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// initializedCondition is True once every init container has completed
// (sidecars: started), and stays True once any regular container has
// started, even while a sidecar restarts.
func initializedCondition(pod *corev1.Pod, s *corev1.PodStatus) corev1.PodCondition {
	if s.Phase == corev1.PodSucceeded {
		c := boolCondition(corev1.PodInitialized, true, "", "")
		c.Reason = reasonPodCompleted
		return c
	}
	for _, st := range s.ContainerStatuses {
		if st.State.Running != nil || st.State.Terminated != nil || st.LastTerminationState.Terminated != nil {
			return boolCondition(corev1.PodInitialized, true, "", "")
		}
	}
	var incomplete []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		st := statusOf(s.InitContainerStatuses, c.Name)
		switch {
		case st == nil:
			incomplete = append(incomplete, c.Name)
		case isSidecar(c):
			if st.Started == nil || !*st.Started {
				incomplete = append(incomplete, c.Name)
			}
		case st.State.Terminated == nil || st.State.Terminated.ExitCode != 0:
			incomplete = append(incomplete, c.Name)
		}
	}
	if len(incomplete) == 0 {
		return boolCondition(corev1.PodInitialized, true, "", "")
	}
	return boolCondition(corev1.PodInitialized, false, reasonContainersNotInitialized,
		"containers with incomplete status: ["+strings.Join(incomplete, " ")+"]")
}

// containersReadyCondition is True when every regular container and every
// sidecar is ready.
func containersReadyCondition(pod *corev1.Pod, s *corev1.PodStatus) corev1.PodCondition {
	if c, ok := terminalCondition(corev1.ContainersReady, s); ok {
		return c
	}
	var notReady []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if st := statusOf(s.InitContainerStatuses, c.Name); isSidecar(c) && (st == nil || !st.Ready) {
			notReady = append(notReady, c.Name)
		}
	}
	for i := range pod.Spec.Containers {
		if st := statusOf(s.ContainerStatuses, pod.Spec.Containers[i].Name); st == nil || !st.Ready {
			notReady = append(notReady, pod.Spec.Containers[i].Name)
		}
	}
	if len(notReady) == 0 {
		return boolCondition(corev1.ContainersReady, true, "", "")
	}
	return boolCondition(corev1.ContainersReady, false, reasonContainersNotReady,
		"containers with unready status: ["+strings.Join(notReady, " ")+"]")
}

// readyCondition is ContainersReady, further held back by readiness gates
// whose conditions are missing or not True.
func readyCondition(pod *corev1.Pod, s *corev1.PodStatus, containersReady corev1.PodCondition) corev1.PodCondition {
	if c, ok := terminalCondition(corev1.PodReady, s); ok {
		return c
	}
	if containersReady.Status != corev1.ConditionTrue {
		c := containersReady
		c.Type = corev1.PodReady
		return c
	}
	var unmet []string
	for _, g := range pod.Spec.ReadinessGates {
		var found *corev1.PodCondition
		for i := range s.Conditions {
			if s.Conditions[i].Type == g.ConditionType {
				found = &s.Conditions[i]
			}
		}
		switch {
		case found == nil:
			unmet = append(unmet, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType))
		case found.Status != corev1.ConditionTrue:
			unmet = append(unmet, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %s", g.ConditionType, found.Status))
		}
	}
	if len(unmet) > 0 {
		return boolCondition(corev1.PodReady, false, reasonReadinessGatesNotReady, strings.Join(unmet, ", "))
	}
	return boolCondition(corev1.PodReady, true, "", "")
}

// terminalCondition is the Ready or ContainersReady condition of a pod
// that has finished: False, PodCompleted or PodFailed.
func terminalCondition(t corev1.PodConditionType, s *corev1.PodStatus) (corev1.PodCondition, bool) {
	switch s.Phase {
	case corev1.PodSucceeded:
		return boolCondition(t, false, reasonPodCompleted, ""), true
	case corev1.PodFailed:
		return boolCondition(t, false, reasonPodFailed, ""), true
	}
	return corev1.PodCondition{}, false
}

func statusOf(statuses []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

func boolCondition(t corev1.PodConditionType, ok bool, reason, message string) corev1.PodCondition {
	if ok {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
	}
	return corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: message}
}

// qosClass is the pod's quality of service class from its requests and
// limits, as Kubernetes computes it.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	for _, c := range allContainers(pod) {
		for name, q := range c.Resources.Requests {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				if !q.IsZero() {
					requests[name] = q
				}
			}
		}
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			q, ok := c.Resources.Limits[name]
			if !ok || q.IsZero() {
				guaranteed = false
				continue
			}
			limits[name] = q
			if r, ok := c.Resources.Requests[name]; ok && r.Cmp(q) != 0 {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
