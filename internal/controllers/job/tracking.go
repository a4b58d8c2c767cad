package job

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
)

// Finished pods are counted in three steps, so that a crash or a stale
// cache between any two of them neither loses nor double-counts a pod:
//
//  1. the UIDs of newly finished pods that still hold the tracking
//     finalizer go into status.uncountedTerminatedPods (one status write);
//  2. their finalizers are removed;
//  3. UIDs whose pods no longer hold the finalizer move from
//     uncountedTerminatedPods into status.succeeded and status.failed
//     (written with the rest of the status at the end of the sync).
//
// A pod without the finalizer is never counted again, and a pod whose
// finalizer this process removed is skipped until the cache shows it so.

// outcome is what a pod's state means for the job's counters.
type outcome int

const (
	keep           outcome = iota // still running, or not yet known to have failed
	countSucceeded                // finished successfully, counts
	countFailed                   // failed, counts towards the back-off limit
	releaseOnly                   // finished but not counted (ignored failure, duplicate index)
)

// maxUncounted bounds the pods recorded per sync, keeping each status
// write small; the rest are recorded by the next sync.
const maxUncounted = 500

// trackFinished runs the three steps for the job's pods.
func (c *Controller) trackFinished(ctx context.Context, s *state) error {
	var release []*corev1.Pod
	var finished []finishedPod
	recorded := 0
	for _, pod := range s.pods {
		if !hasTrackingFinalizer(pod) || c.exp.finalizerRemovalPending(pod.UID) {
			continue
		}
		if s.uncountedSucceeded.Has(pod.UID) || s.uncounted.Has(pod.UID) {
			release = append(release, pod)
			continue
		}
		if recorded >= maxUncounted {
			s.waitFor(time.Millisecond) // come back at once for the rest
			continue
		}
		switch s.classify(pod) {
		case countSucceeded:
			s.uncountedSucceeded.Insert(pod.UID)
			finished = append(finished, finishedPod{at: finishTime(pod, s.now), succeeded: true})
		case countFailed:
			s.uncounted.Insert(pod.UID)
			finished = append(finished, finishedPod{at: finishTime(pod, s.now)})
		case releaseOnly:
			release = append(release, pod)
			continue
		default:
			continue
		}
		recorded++
		release = append(release, pod)
	}
	if recorded > 0 {
		s.storeUncounted()
		if err := c.putStatus(ctx, s); err != nil {
			return err
		}
		c.backoff.record(s.key, finished)
	}
	released, err := c.release(ctx, release)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	s.countReleased(released, c.exp)
	return nil
}

// classify decides a pod's outcome and notes what it implies for indexes
// and the pod failure policy.
func (s *state) classify(pod *corev1.Pod) outcome {
	job := s.job
	ix := noIndex
	if s.indexed {
		ix = completionIndex(pod, s.completions)
	}
	switch {
	case pod.Status.Phase == corev1.PodSucceeded:
		if s.indexed {
			if ix == noIndex || s.completed.has(ix) || s.failedIndexes.has(ix) {
				return releaseOnly
			}
			s.completed = s.completed.with(ix)
		}
		return countSucceeded
	case pod.Status.Phase == corev1.PodFailed && pod.DeletionTimestamp != nil && ptr.Deref(job.Spec.Suspend, false):
		// Deleted by suspension and reported Failed by its node on the
		// way out (its containers were killed): not a failure.
		return releaseOnly
	case pod.Status.Phase == corev1.PodFailed:
	case pod.DeletionTimestamp != nil && (!onlyReplaceFailed(job) || pod.Spec.NodeName == ""):
		// A deleted pod may never reach phase Failed (its node may be
		// gone, and one never scheduled has no kubelet to finish it); it
		// counts as failed now, unless deleted by suspension.
		if ptr.Deref(job.Spec.Suspend, false) {
			return releaseOnly
		}
	default:
		return keep
	}
	var match policyMatch
	if pod.Status.Phase == corev1.PodFailed {
		match = matchFailurePolicy(job.Spec.PodFailurePolicy, pod)
	}
	switch match.action {
	case batchv1.PodFailurePolicyActionIgnore:
		return releaseOnly
	case batchv1.PodFailurePolicyActionFailJob:
		s.setFailureTarget(batchv1.JobReasonPodFailurePolicy, match.message)
	case batchv1.PodFailurePolicyActionFailIndex:
		if job.Spec.BackoffLimitPerIndex != nil {
			if ix != noIndex && !s.completed.has(ix) {
				s.failedIndexes = s.failedIndexes.with(ix)
			}
			return countFailed
		}
	}
	if limit := job.Spec.BackoffLimitPerIndex; limit != nil && ix != noIndex && !s.completed.has(ix) &&
		indexFailureCount(pod)+1 > int(*limit) {
		s.failedIndexes = s.failedIndexes.with(ix)
	}
	return countFailed
}

// storeUncounted puts the uncounted UIDs and the index sets in the status.
func (s *state) storeUncounted() {
	st := &s.job.Status
	st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{
		Succeeded: sortedUIDs(s.uncountedSucceeded),
		Failed:    sortedUIDs(s.uncounted),
	}
	if s.indexed {
		st.CompletedIndexes = s.completed.String()
		if s.job.Spec.BackoffLimitPerIndex != nil {
			st.FailedIndexes = ptr.To(s.failedIndexes.String())
		}
	}
}

func sortedUIDs(set sets.Set[types.UID]) []types.UID {
	if set.Len() == 0 {
		return nil
	}
	uids := set.UnsortedList()
	slices.Sort(uids)
	return uids
}

// countReleased moves the uncounted pods that hold no finalizer any more
// into the counters (step 3).
func (s *state) countReleased(released sets.Set[types.UID], exp *expectations) {
	byUID := make(map[types.UID]*corev1.Pod, len(s.pods))
	for _, pod := range s.pods {
		byUID[pod.UID] = pod
	}
	gone := func(uid types.UID) bool {
		pod := byUID[uid]
		return pod == nil || !hasTrackingFinalizer(pod) || released.Has(uid) || exp.finalizerRemovalPending(uid)
	}
	st := &s.job.Status
	for _, uid := range s.uncountedSucceeded.UnsortedList() {
		if gone(uid) {
			s.uncountedSucceeded.Delete(uid)
			st.Succeeded++
		}
	}
	for _, uid := range s.uncounted.UnsortedList() {
		if gone(uid) {
			s.uncounted.Delete(uid)
			st.Failed++
		}
	}
	s.storeUncounted()
}

// release removes the tracking finalizer from pods and returns the UIDs of
// those it succeeded for.
func (c *Controller) release(ctx context.Context, pods []*corev1.Pod) (sets.Set[types.UID], error) {
	released := sets.New[types.UID]()
	var mu sync.Mutex
	errs := eachPod(pods, func(pod *corev1.Pod) error {
		// Marked before the patch: the watch event showing the removal
		// may arrive before the patch call returns.
		c.exp.finalizerRemoved(pod.UID)
		if err := c.removeFinalizer(ctx, pod); err != nil {
			c.exp.finalizerRemovalObserved(pod.UID)
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		released.Insert(pod.UID)
		return nil
	})
	return released, errors.Join(errs...)
}
