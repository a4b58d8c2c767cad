// Package job is the Job controller: it runs each Job's pods to
// completion (parallelism, completions, indexed completion, back-off,
// deadlines, pod failure and success policies, suspension) and accounts
// for every finished pod exactly once, holding pods with the
// batch.kubernetes.io/job-tracking finalizer until they are counted.
package job

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// ReportingController is the name the controller's Events carry.
const ReportingController = "job-controller"

// podsByJobIndex indexes the pod cache by the UID of the controlling Job;
// the name is ours so that it cannot collide with another controller's
// index on the same shared informer.
const podsByJobIndex = "job/controllerUID"

// Config is what the controller needs.
type Config struct {
	// Client creates and deletes pods and writes job status.
	Client kubernetes.Interface
	// Jobs and Pods are shared informers; the controller adds handlers and
	// a pod index, so it must be built before they start.
	Jobs batchinformers.JobInformer
	Pods coreinformers.PodInformer
	// Clock decides every "now" (back-off, deadlines, condition times).
	// Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
	// Workers is the number of jobs synced in parallel. Default 4.
	Workers int
}

// Controller runs Jobs.
type Controller struct {
	client   kubernetes.Interface
	jobs     batchlisters.JobLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	recorder events.EventRecorder

	exp     *expectations
	backoff *backoffStore

	loop    *controller.Loop // keyed by job
	orphans *controller.Loop // keyed by pod: finalizers of pods without a job
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("job controller: a Recorder is required")
	}
	c := &Controller{
		client:   cfg.Client,
		jobs:     cfg.Jobs.Lister(),
		pods:     cfg.Pods.Lister(),
		podIndex: cfg.Pods.Informer().GetIndexer(),
		synced:   []cache.InformerSynced{cfg.Jobs.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
		clock:    cfg.Clock,
		recorder: cfg.Recorder,
		backoff:  newBackoffStore(),
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.exp = newExpectations(c.clock)
	workers := cfg.Workers
	if workers <= 0 {
		workers = 4
	}
	c.loop = controller.New("job", workers, c.sync)
	c.orphans = controller.New("job-orphan-pods", 1, c.syncOrphan)
	if err := cfg.Pods.Informer().AddIndexers(cache.Indexers{podsByJobIndex: controller.IndexByRefOfGroupKind(jobKind)}); err != nil {
		return nil, fmt.Errorf("index pods by job: %w", err)
	}
	if _, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
		DeleteFunc: c.onJobDelete,
	}); err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPodAdd,
		UpdateFunc: c.onPodUpdate,
		DeleteFunc: c.onPodDelete,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.loop.Run(gctx, c.synced...) })
	g.Go(func() error { return c.orphans.Run(gctx, c.synced...) })
	return g.Wait()
}

// jobRef returns the controller reference of a pod if a Job controls it.
func jobRef(pod *corev1.Pod) *metav1.OwnerReference {
	return controller.RefOfGroupKind(pod, jobKind)
}

// jobKind is the kind a pod's controller reference names for a Job, in
// any version of the batch group.
var jobKind = batchv1.SchemeGroupVersion.WithKind("Job").GroupKind()

// podsOf returns the cached pods the job controls; callers must not
// mutate them.
func (c *Controller) podsOf(job *batchv1.Job) []*corev1.Pod {
	return controller.OwnedIn[*corev1.Pod](c.podIndex, podsByJobIndex, job.UID, job.Namespace)
}
