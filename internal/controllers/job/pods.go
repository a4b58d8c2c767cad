package job

import (
	"slices"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// noIndex marks a pod without a valid completion index.
const noIndex = -1

// hasTrackingFinalizer reports whether the pod is still held for the
// job's status counters.
func hasTrackingFinalizer(pod *corev1.Pod) bool {
	return slices.Contains(pod.Finalizers, batchv1.JobTrackingFinalizer)
}

// isTerminal reports whether the pod has finished, for good.
func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// isActive reports whether the pod is pending or running and not being
// deleted: the pods a job's parallelism is about.
func isActive(pod *corev1.Pod) bool {
	return !isTerminal(pod) && pod.DeletionTimestamp == nil
}

// isTerminating reports whether the pod is being deleted but has not
// finished yet.
func isTerminating(pod *corev1.Pod) bool {
	return !isTerminal(pod) && pod.DeletionTimestamp != nil
}

// isReady reports whether the pod's Ready condition is True.
func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// onlyReplaceFailed reports whether the job waits for a deleted pod to
// reach phase Failed before it replaces or counts it.
func onlyReplaceFailed(job *batchv1.Job) bool {
	return job.Spec.PodFailurePolicy != nil ||
		ptr.Deref(job.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed) == batchv1.Failed
}

// completionIndex is the pod's index from its annotation (or, failing
// that, its label), or noIndex if it has none or one outside [0, limit).
func completionIndex(pod *corev1.Pod, limit int) int {
	v, ok := pod.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = pod.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 || i >= limit || strconv.Itoa(i) != v {
		return noIndex
	}
	return i
}

// indexFailureCount is the number of earlier failures of the pod's index
// that the controller wrote on the pod when it created it.
func indexFailureCount(pod *corev1.Pod) int {
	n, err := strconv.Atoi(pod.Annotations[batchv1.JobIndexFailureCountAnnotation])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// finishTime is when the pod finished: the last container termination,
// else the time its Ready condition last changed, else its deletion time,
// else now. Back-off is measured from it.
func finishTime(pod *corev1.Pod, now time.Time) time.Time {
	var last time.Time
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range statuses {
			if t := s.State.Terminated; t != nil && t.FinishedAt.After(last) {
				last = t.FinishedAt.Time
			}
		}
	}
	if !last.IsZero() {
		return last
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if pod.DeletionTimestamp != nil {
		return pod.DeletionTimestamp.Time
	}
	return now
}

// restartCount sums the container restarts of a pod: with restartPolicy
// OnFailure these are the job's failures.
func restartCount(pod *corev1.Pod) int {
	n := 0
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range statuses {
			n += int(s.RestartCount)
		}
	}
	return n
}

// deletionLess orders pods to delete when there are too many: unscheduled
// before scheduled, pending before running, not ready before ready, newer
// before older. Lower goes first.
func deletionLess(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	rank := func(p corev1.PodPhase) int {
		switch p {
		case corev1.PodPending:
			return 0
		case corev1.PodUnknown:
			return 1
		default:
			return 2
		}
	}
	if ra, rb := rank(a.Status.Phase), rank(b.Status.Phase); ra != rb {
		return ra < rb
	}
	if isReady(a) != isReady(b) {
		return !isReady(a)
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}
