package job

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// maxPodWrites bounds the pod creations and deletions of one sync, so
// that a huge job cannot monopolise a worker; the next sync goes on.
const maxPodWrites = 500

// manage counts the job's pods and creates or deletes pods to match its
// parallelism, completions and verdict. It does not touch pods while the
// cache has not caught up with its previous writes.
func (c *Controller) manage(ctx context.Context, s *state) {
	var active []*corev1.Pod
	for _, pod := range s.pods {
		switch {
		case isActive(pod):
			active = append(active, pod)
			if isReady(pod) {
				s.ready++
			}
		case isTerminating(pod):
			s.terminating++
		}
	}
	s.active = len(active)
	var create, del []*corev1.Pod
	suspending := false
	switch {
	case !s.satisfied:
	case finishing(&s.job.Status):
		del = active
	case ptr.Deref(s.job.Spec.Suspend, false):
		del, suspending = active, true
	case s.indexed:
		create, del = c.planIndexed(s, active)
	default:
		create, del = c.planNonIndexed(s, active)
	}
	if len(create) == 0 && len(del) == 0 {
		return
	}
	create, del = create[:min(len(create), maxPodWrites)], del[:min(len(del), maxPodWrites)]
	uids := make([]types.UID, len(del))
	for i, pod := range del {
		uids[i] = pod.UID
	}
	c.exp.expect(s.key, len(create), uids)
	c.deletePods(ctx, s, del)
	if suspending {
		c.releaseSuspended(ctx, s, del)
	}
	c.createPods(ctx, s, create)
}

// releaseSuspended lets go of the pods a suspension deleted: they are not
// failures, and a pod still held when the job resumes (its node may take
// the grace period to stop it) would be counted as one.
func (c *Controller) releaseSuspended(ctx context.Context, s *state, deleted []*corev1.Pod) {
	var held []*corev1.Pod
	for _, pod := range deleted {
		if s.deleted.Has(pod.UID) && hasTrackingFinalizer(pod) {
			held = append(held, pod)
		}
	}
	if _, err := c.release(ctx, held); err != nil {
		s.errs = append(s.errs, err)
	}
}

// planNonIndexed keeps min(parallelism, completions left) pods running.
func (c *Controller) planNonIndexed(s *state, active []*corev1.Pod) (create, del []*corev1.Pod) {
	job := s.job
	want := int(ptr.Deref(job.Spec.Parallelism, 1))
	succeeded := int(job.Status.Succeeded) + s.uncountedSucceeded.Len()
	switch {
	case s.completions >= 0:
		want = min(want, max(s.completions-succeeded, 0))
	case succeeded > 0:
		// Without completions, a success means no new pods; those still
		// running may finish.
		want = min(want, len(active))
	}
	if len(active) > want {
		return nil, excess(active, len(active)-want)
	}
	n := want - len(active)
	if onlyReplaceFailed(job) {
		n -= s.terminating
	}
	if n <= 0 {
		return nil, nil
	}
	if wait := c.backoff.get(s.key).remaining(s.now); wait > 0 {
		s.waitFor(wait)
		return nil, nil
	}
	for range n {
		create = append(create, newPod(job, noIndex, 0))
	}
	return create, nil
}

// excess picks the n pods to delete first.
func excess(pods []*corev1.Pod, n int) []*corev1.Pod {
	sorted := slices.Clone(pods)
	slices.SortStableFunc(sorted, func(a, b *corev1.Pod) int {
		switch {
		case deletionLess(a, b):
			return -1
		case deletionLess(b, a):
			return 1
		}
		return 0
	})
	return sorted[:n]
}

// deletePods deletes pods, noting each in the sync's counts and Events.
func (c *Controller) deletePods(ctx context.Context, s *state, pods []*corev1.Pod) {
	errs := eachPod(pods, func(pod *corev1.Pod) error {
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name,
			metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err): // gone, or replaced by another pod of that name
			c.exp.deletionObserved(s.key, pod.UID)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.gone(pod)
			return nil
		case err != nil:
			c.exp.deletionObserved(s.key, pod.UID)
			c.recorder.Eventf(s.job, nil, corev1.EventTypeWarning, "FailedDelete", "Delete", "Error deleting: %v", err)
			return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		c.recorder.Eventf(s.job, nil, corev1.EventTypeNormal, "SuccessfulDelete", "Delete", "Deleted pod: %s", pod.Name)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.gone(pod)
		s.terminating++
		s.deleted.Insert(pod.UID)
		return nil
	})
	s.errs = append(s.errs, errs...)
}

// gone takes a pod that was active out of the counts.
func (s *state) gone(pod *corev1.Pod) {
	s.active--
	if isReady(pod) {
		s.ready--
	}
}

// createPods creates pods in doubling batches (1, 2, 4, …), stopping at
// the first batch with a failure: when creation fails (quota, admission)
// it usually fails for all, and this keeps the failed calls few.
func (c *Controller) createPods(ctx context.Context, s *state, pods []*corev1.Pod) {
	batch := 1
	for start := 0; start < len(pods); {
		end := min(start+batch, len(pods))
		failed := 0
		errs := eachPod(pods[start:end], func(pod *corev1.Pod) error {
			created, err := c.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				c.exp.creationObserved(s.key) // it will never be seen
				failed++
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return nil // the namespace is going away, and the job with it
				}
				c.recorder.Eventf(s.job, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating: %v", err)
				return fmt.Errorf("create pod for job %s: %w", s.key, err)
			}
			s.active++
			c.recorder.Eventf(s.job, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod: %s", created.Name)
			return nil
		})
		s.errs = append(s.errs, errs...)
		start = end
		if failed > 0 {
			for range pods[start:] {
				c.exp.creationObserved(s.key)
			}
			return
		}
		batch *= 2
	}
}

// podWorkers bounds the pod API calls in flight per sync.
const podWorkers = 8

// eachPod runs fn over pods, podWorkers at a time, and returns the
// errors; fn must lock around any state it shares.
func eachPod(pods []*corev1.Pod, fn func(*corev1.Pod) error) []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, podWorkers)
	for _, pod := range pods {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(pod); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}
