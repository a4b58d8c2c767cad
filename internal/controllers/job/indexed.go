package job

import (
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// planIndexed keeps one pod running for each index that is neither
// completed nor failed, lowest indexes first, at most parallelism at a
// time. Pods without a valid index, of a finished index, or duplicating
// another pod's index are deleted.
func (c *Controller) planIndexed(s *state, active []*corev1.Pod) (create, del []*corev1.Pod) {
	job := s.job
	// Keep the pods most worth keeping when an index has duplicates.
	sorted := excess(active, len(active))
	slices.Reverse(sorted)
	byIndex := map[int]*corev1.Pod{}
	for _, pod := range sorted {
		ix := completionIndex(pod, s.completions)
		if ix == noIndex || s.completed.has(ix) || s.failedIndexes.has(ix) || byIndex[ix] != nil {
			del = append(del, pod)
			continue
		}
		byIndex[ix] = pod
	}
	left := s.completions - s.completed.total() - s.failedIndexes.total()
	want := min(int(ptr.Deref(job.Spec.Parallelism, 1)), max(left, 0))
	if len(byIndex) > want {
		kept := make([]*corev1.Pod, 0, len(byIndex))
		for _, pod := range byIndex {
			kept = append(kept, pod)
		}
		return nil, append(del, excess(kept, len(kept)-want)...)
	}
	need := want - len(byIndex)
	if need <= 0 {
		return nil, del
	}
	perIndex := job.Spec.BackoffLimitPerIndex != nil
	if !perIndex {
		if wait := c.backoff.get(s.key).remaining(s.now); wait > 0 {
			s.waitFor(wait)
			return nil, del
		}
	}
	waiting := map[int]bool{} // indexes whose deleted pod has not finished
	if onlyReplaceFailed(job) {
		for _, pod := range s.pods {
			if isTerminating(pod) {
				waiting[completionIndex(pod, s.completions)] = true
			}
		}
	}
	history := s.indexHistory()
	for ix := 0; ix < s.completions && need > 0; ix++ {
		if s.completed.has(ix) || s.failedIndexes.has(ix) || byIndex[ix] != nil || waiting[ix] {
			continue
		}
		h := history[ix]
		if perIndex && h.failures > 0 {
			if wait := h.lastFailure.Add(backoffDelay(h.failures)).Sub(s.now); wait > 0 {
				s.waitFor(wait)
				continue
			}
		}
		create = append(create, newPod(job, ix, h.failures))
		need--
	}
	return create, del
}

// indexFailures is an index's count of failures and when the last one was.
type indexFailures struct {
	failures    int
	lastFailure time.Time
}

// indexHistory reads each index's failures from its failed pods: a pod
// carries the count of failures before it, and adds one unless the pod
// failure policy ignores its failure. Only kept with backoffLimitPerIndex.
func (s *state) indexHistory() map[int]indexFailures {
	history := map[int]indexFailures{}
	if s.job.Spec.BackoffLimitPerIndex == nil {
		return history
	}
	for _, pod := range s.pods {
		countsAsFailed := pod.Status.Phase == corev1.PodFailed ||
			(isTerminating(pod) && (!onlyReplaceFailed(s.job) || pod.Spec.NodeName == ""))
		if !countsAsFailed {
			continue
		}
		ix := completionIndex(pod, s.completions)
		if ix == noIndex {
			continue
		}
		n := indexFailureCount(pod)
		if pod.Status.Phase != corev1.PodFailed ||
			matchFailurePolicy(s.job.Spec.PodFailurePolicy, pod).action != batchv1.PodFailurePolicyActionIgnore {
			n++
		}
		h := history[ix]
		h.failures = max(h.failures, n)
		if t := finishTime(pod, s.now); t.After(h.lastFailure) {
			h.lastFailure = t
		}
		history[ix] = h
	}
	return history
}
