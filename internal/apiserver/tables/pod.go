package tables

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var podColumns = columns(
	nameColumn(),
	strCol("Ready", "The aggregate readiness state of this pod for accepting traffic."),
	strCol("Status", "The aggregate status of the containers in this pod."),
	strCol("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
	ageColumn(),
	wide(strCol("IP", corev1.PodStatus{}.SwaggerDoc()["podIP"])),
	wide(strCol("Node", corev1.PodSpec{}.SwaggerDoc()["nodeName"])),
	wide(strCol("Nominated Node", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"])),
	wide(strCol("Readiness Gates", corev1.PodSpec{}.SwaggerDoc()["readinessGates"])),
)

func podCells(pod *corev1.Pod, now time.Time) []any {
	s := summarizePod(pod)
	restarts := strconv.Itoa(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, HumanDuration(now.Sub(s.lastRestart)))
	}
	ip := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	}
	gates := "<none>"
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		trueGates := 0
		for _, g := range pod.Spec.ReadinessGates {
			if podCondition(pod, g.ConditionType) == corev1.ConditionTrue {
				trueGates++
			}
		}
		gates = fmt.Sprintf("%d/%d", trueGates, n)
	}
	return []any{
		pod.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.status,
		restarts,
		ageSince(pod.CreationTimestamp, now),
		orNone(ip),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		gates,
	}
}

// podRowConditions marks the rows of finished pods "Completed", which
// clients use to tell them apart from live ones.
func podRowConditions(pod *corev1.Pod) []metav1.TableRowCondition {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(pod.Status.Phase), Message: "The pod has completed successfully."}}
	case corev1.PodFailed:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(pod.Status.Phase), Message: "The pod failed."}}
	default:
		return nil
	}
}

// podSummary is what the READY, STATUS and RESTARTS cells show.
type podSummary struct {
	ready, total int
	restarts     int
	lastRestart  time.Time
	status       string
}

// summarizePod works out a pod's status the way kubectl shows it: the
// phase (or the pod's reason), replaced by the state of the first init
// container still running ("Init:0/1", "Init:CrashLoopBackOff") or else by
// the reason of a waiting or terminated container, and "Terminating" while
// a live pod is being deleted. Sidecars (init containers that restart
// always) count as containers of the pod.
func summarizePod(pod *corev1.Pod) podSummary {
	s := podSummary{total: len(pod.Spec.Containers), status: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		s.status = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			s.status = corev1.PodReasonSchedulingGated
		}
	}
	sidecars := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			s.total++
		}
	}

	// Init containers run in order; the first that has not finished
	// (or, for a sidecar, started) decides the status.
	initializing := false
	var sidecarRestarts int
	var sidecarLastRestart time.Time
	for i, st := range pod.Status.InitContainerStatuses {
		s.restarts += int(st.RestartCount)
		s.lastRestart = later(s.lastRestart, st.LastTerminationState)
		if sidecars[st.Name] {
			sidecarRestarts += int(st.RestartCount)
			sidecarLastRestart = later(sidecarLastRestart, st.LastTerminationState)
		}
		switch {
		case st.State.Terminated != nil && st.State.Terminated.ExitCode == 0:
			continue
		case sidecars[st.Name] && st.Started != nil && *st.Started:
			if st.Ready {
				s.ready++
			}
			continue
		case st.State.Terminated != nil:
			s.status = "Init:" + terminatedReason(st.State.Terminated)
		case st.State.Waiting != nil && st.State.Waiting.Reason != "" && st.State.Waiting.Reason != "PodInitializing":
			s.status = "Init:" + st.State.Waiting.Reason
		default:
			s.status = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || podCondition(pod, corev1.PodInitialized) == corev1.ConditionTrue {
		// Restarts of init containers that finished no longer count.
		s.restarts, s.lastRestart = sidecarRestarts, sidecarLastRestart
		running := false
		// The first container's state wins, so walk them backwards.
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			st := pod.Status.ContainerStatuses[i]
			s.restarts += int(st.RestartCount)
			s.lastRestart = later(s.lastRestart, st.LastTerminationState)
			switch {
			case st.State.Waiting != nil && st.State.Waiting.Reason != "":
				s.status = st.State.Waiting.Reason
			case st.State.Terminated != nil:
				s.status = terminatedReason(st.State.Terminated)
			case st.Ready && st.State.Running != nil:
				running = true
				s.ready++
			}
		}
		// A pod whose main containers exited but whose sidecars still run.
		if s.status == "Completed" && running {
			s.status = "NotReady"
			if podCondition(pod, corev1.PodReady) == corev1.ConditionTrue {
				s.status = "Running"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == "NodeLost":
			s.status = "Unknown"
		case pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			s.status = "Terminating"
		}
	}
	return s
}

// terminatedReason is the reason of a terminated container, or the signal
// or exit code that ended it.
func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	default:
		return fmt.Sprintf("ExitCode:%d", t.ExitCode)
	}
}

// later returns the later of t and the end of a last termination.
func later(t time.Time, last corev1.ContainerState) time.Time {
	if last.Terminated != nil && last.Terminated.FinishedAt.After(t) {
		return last.Terminated.FinishedAt.Time
	}
	return t
}

// podCondition returns the status of the pod's condition of type t, or ""
// if it has none.
func podCondition(pod *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}
