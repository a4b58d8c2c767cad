package job

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// state is one sync's view of a job: a private copy of the job whose
// status the sync edits, the job's cached pods, and what the sync decided.
type state struct {
	key string
	job *batchv1.Job
	// written is the status the API server holds, as far as this sync
	// knows: writes are skipped when nothing changed.
	written batchv1.JobStatus
	pods    []*corev1.Pod
	now     time.Time

	indexed     bool
	completions int // -1 when spec.completions is unset (NonIndexed only)
	// completed and failedIndexes are the status's index sets, parsed;
	// failedIndexes is only kept with spec.backoffLimitPerIndex.
	completed, failedIndexes      indexSet
	uncountedSucceeded, uncounted sets.Set[types.UID] // uncounted holds failed pods

	active      int // pods pending or running, not deleted, after this sync's writes
	terminating int // pods being deleted and not finished
	ready       int
	deleted     sets.Set[types.UID]

	// satisfied says the pod snapshot shows every pod write this
	// controller made, read before the snapshot was taken.
	satisfied bool

	requeue time.Duration // the shortest wait for a timer; 0 for none
	errs    []error

	mu sync.Mutex // guards the counts while pod writes run in parallel
}

// waitFor asks for a sync after d.
func (s *state) waitFor(d time.Duration) {
	if d > 0 && (s.requeue == 0 || d < s.requeue) {
		s.requeue = d
	}
}

// managedHere reports whether this controller owns the job: spec.managedBy
// names another controller otherwise.
func managedHere(job *batchv1.Job) bool {
	return job.Spec.ManagedBy == nil || *job.Spec.ManagedBy == batchv1.JobControllerName
}

// sync brings one job's pods and status in line with its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	cached, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		c.backoff.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	mode := ptr.Deref(cached.Spec.CompletionMode, batchv1.NonIndexedCompletion)
	if !managedHere(cached) || (mode != batchv1.NonIndexedCompletion && mode != batchv1.IndexedCompletion) {
		return nil
	}
	if !isFinished(cached) && cached.DeletionTimestamp == nil {
		if changed, err := c.claimPods(ctx, cached); changed || err != nil {
			// The claimed pods' events bring the job back with them counted.
			return err
		}
	}
	// Read before the pods: a creation observed after the snapshot would
	// satisfy the expectations of a sync that does not see the pod, and the
	// pod would be created again.
	satisfied := c.exp.satisfied(key)
	pods := c.podsOf(cached)
	if isFinished(cached) || cached.DeletionTimestamp != nil {
		// Nothing is counted any more: let every pod go.
		return c.releaseAll(ctx, key, pods)
	}
	s := c.newState(ctx, key, cached, pods)
	s.satisfied = satisfied
	if err := c.trackFinished(ctx, s); err != nil {
		return err
	}
	c.decide(s)
	c.manage(ctx, s)
	c.finish(s)
	if err := c.writeStatus(ctx, s); err != nil {
		s.errs = append(s.errs, err)
	}
	if err := errors.Join(s.errs...); err != nil {
		return err
	}
	if s.requeue > 0 {
		return controller.Requeue{After: s.requeue}
	}
	return nil
}

func (c *Controller) newState(ctx context.Context, key string, cached *batchv1.Job, pods []*corev1.Pod) *state {
	job := cached.DeepCopy()
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	s := &state{
		key: key, job: job, written: *cached.Status.DeepCopy(), pods: pods, now: c.clock.Now(),
		indexed:            ptr.Deref(job.Spec.CompletionMode, "") == batchv1.IndexedCompletion,
		completions:        int(ptr.Deref(job.Spec.Completions, -1)),
		uncountedSucceeded: sets.New(job.Status.UncountedTerminatedPods.Succeeded...),
		uncounted:          sets.New(job.Status.UncountedTerminatedPods.Failed...),
		deleted:            sets.New[types.UID](),
	}
	logger := klog.FromContext(ctx)
	if s.indexed {
		var err error
		if s.completed, err = parseIndexSet(job.Status.CompletedIndexes, s.completions); err != nil {
			logger.Info("Ignoring malformed completed indexes", "job", klog.KObj(job), "err", err)
		}
		if job.Spec.BackoffLimitPerIndex != nil {
			if s.failedIndexes, err = parseIndexSet(ptr.Deref(job.Status.FailedIndexes, ""), s.completions); err != nil {
				logger.Info("Ignoring malformed failed indexes", "job", klog.KObj(job), "err", err)
			}
		}
	}
	return s
}

// writeStatus writes the status if the sync changed it. A stale cache
// shows up as a conflict, and the job is synced again.
func (c *Controller) writeStatus(ctx context.Context, s *state) error {
	st := &s.job.Status
	st.Active = int32(s.active)
	st.Ready = ptr.To(int32(s.ready))
	st.Terminating = ptr.To(int32(s.terminating))
	if apiequality.Semantic.DeepEqual(&s.written, st) {
		return nil
	}
	return c.putStatus(ctx, s)
}

// putStatus writes the status as it stands.
func (c *Controller) putStatus(ctx context.Context, s *state) error {
	updated, err := c.client.BatchV1().Jobs(s.job.Namespace).UpdateStatus(ctx, s.job, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of job %s: %w", s.key, err)
	}
	s.job = updated
	s.written = *updated.Status.DeepCopy()
	return nil
}

// releaseAll removes the tracking finalizer from every pod of a finished
// or deleted job.
func (c *Controller) releaseAll(ctx context.Context, key string, pods []*corev1.Pod) error {
	var held []*corev1.Pod
	for _, pod := range pods {
		if hasTrackingFinalizer(pod) && !c.exp.finalizerRemovalPending(pod.UID) {
			held = append(held, pod)
		}
	}
	_, err := c.release(ctx, held)
	if err != nil {
		return fmt.Errorf("release pods of job %s: %w", key, err)
	}
	return nil
}
