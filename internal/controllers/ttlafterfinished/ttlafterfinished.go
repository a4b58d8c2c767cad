// Package ttlafterfinished is the TTL-after-finished controller: it
// deletes a finished Job (Complete or Failed) once
// spec.ttlSecondsAfterFinished has passed since it finished, with its pods.
package ttlafterfinished

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// Config is what the controller needs.
type Config struct {
	// Client deletes jobs.
	Client kubernetes.Interface
	// Jobs is a shared informer; the controller adds its handlers, so it
	// must be built before the informer starts.
	Jobs batchinformers.JobInformer
	// Clock decides every "now". Default the real clock.
	Clock clock.PassiveClock
}

// Controller deletes finished jobs whose time to live has passed.
type Controller struct {
	client kubernetes.Interface
	jobs   batchlisters.JobLister
	synced cache.InformerSynced
	clock  clock.PassiveClock
	loop   *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client: cfg.Client,
		jobs:   cfg.Jobs.Lister(),
		synced: cfg.Jobs.Informer().HasSynced,
		clock:  cfg.Clock,
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.loop = controller.New("ttl-after-finished", 2, c.sync)
	enqueue := func(obj any) {
		if job, ok := obj.(*batchv1.Job); ok && job.Spec.TTLSecondsAfterFinished != nil && job.DeletionTimestamp == nil {
			if _, ok := finishedAt(job); ok {
				c.loop.EnqueueObject(job)
			}
		}
	}
	if _, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced) }

// finishedAt is when the job reached its terminal condition: the
// condition's transition time, else its completion time.
func finishedAt(job *batchv1.Job) (time.Time, bool) {
	for _, cond := range job.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			switch {
			case !cond.LastTransitionTime.IsZero():
				return cond.LastTransitionTime.Time, true
			case job.Status.CompletionTime != nil:
				return job.Status.CompletionTime.Time, true
			}
		}
	}
	return time.Time{}, false
}

// remaining is how long the job still has to live; ok is false when it is
// not subject to a TTL (no TTL, not finished, or being deleted).
func (c *Controller) remaining(job *batchv1.Job) (left time.Duration, ok bool) {
	if job.Spec.TTLSecondsAfterFinished == nil || job.DeletionTimestamp != nil {
		return 0, false
	}
	at, finished := finishedAt(job)
	if !finished {
		return 0, false
	}
	ttl := time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second
	return at.Add(ttl).Sub(c.clock.Now()), true
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	job, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	left, ok := c.remaining(job)
	if !ok {
		return nil
	}
	if left > 0 {
		return controller.Requeue{After: left}
	}
	// The cache may be stale: the TTL may have changed or the job been
	// replaced. Decide on the API server's copy, and delete only that.
	job, err = c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get job %s: %w", key, err)
	}
	if left, ok = c.remaining(job); !ok {
		return nil
	}
	if left > 0 {
		return controller.Requeue{After: left}
	}
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &job.UID, ResourceVersion: &job.ResourceVersion},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete job %s: %w", key, err)
	}
	klog.FromContext(ctx).V(2).Info("Deleted finished job after its TTL", "job", klog.KObj(job))
	return nil
}
