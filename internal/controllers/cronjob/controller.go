// Package cronjob is the CronJob controller: it creates a Job from each
// CronJob's template at the times its schedule names (in its time zone),
// applies the concurrency policy and starting deadline, keeps the
// CronJob's status (active jobs, last schedule and success times) and
// deletes finished jobs beyond the history limits.
package cronjob

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// ReportingController is the name the controller's Events carry.
const ReportingController = "cronjob-controller"

// jobsByCronJobIndex indexes the job cache by the UID of the controlling
// CronJob.
const jobsByCronJobIndex = "cronjob/controllerUID"

// Config is what the controller needs.
type Config struct {
	// Client creates and deletes jobs and writes cron job status.
	Client kubernetes.Interface
	// CronJobs and Jobs are shared informers; the controller adds handlers
	// and a job index, so it must be built before they start.
	CronJobs batchinformers.CronJobInformer
	Jobs     batchinformers.JobInformer
	// Clock decides every "now". Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events. Default: Events written to the API server
	// by Run, reported as ReportingController.
	Recorder events.EventRecorder
}

// Controller runs CronJobs.
type Controller struct {
	client      kubernetes.Interface
	cronJobs    batchlisters.CronJobLister
	jobs        batchlisters.JobLister
	jobIndex    cache.Indexer
	synced      []cache.InformerSynced
	clock       clock.PassiveClock
	recorder    events.EventRecorder
	broadcaster events.EventBroadcaster // nil when Config.Recorder was given
	loop        *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:   cfg.Client,
		cronJobs: cfg.CronJobs.Lister(),
		jobs:     cfg.Jobs.Lister(),
		jobIndex: cfg.Jobs.Informer().GetIndexer(),
		synced:   []cache.InformerSynced{cfg.CronJobs.Informer().HasSynced, cfg.Jobs.Informer().HasSynced},
		clock:    cfg.Clock,
		recorder: cfg.Recorder,
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.recorder == nil {
		c.broadcaster = events.NewBroadcaster(&events.EventSinkImpl{Interface: cfg.Client.EventsV1()})
		c.recorder = c.broadcaster.NewRecorder(scheme.Scheme, ReportingController)
	}
	c.loop = controller.New("cronjob", 2, c.sync)
	if err := cfg.Jobs.Informer().AddIndexers(cache.Indexers{jobsByCronJobIndex: controllingCronJobUID}); err != nil {
		return nil, fmt.Errorf("index jobs by cron job: %w", err)
	}
	if _, err := cfg.CronJobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
		DeleteFunc: c.loop.EnqueueObject,
	}); err != nil {
		return nil, fmt.Errorf("watch cron jobs: %w", err)
	}
	onJob := func(obj any) {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		if job, ok := obj.(*batchv1.Job); ok {
			if ref := cronJobRef(job); ref != nil {
				c.loop.Enqueue(job.Namespace + "/" + ref.Name)
			}
		}
	}
	if _, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onJob,
		UpdateFunc: func(_, obj any) { onJob(obj) },
		DeleteFunc: onJob,
	}); err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if c.broadcaster != nil {
		if err := c.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
			return fmt.Errorf("start event recording: %w", err)
		}
		defer c.broadcaster.Shutdown()
	}
	return c.loop.Run(ctx, c.synced...)
}

// cronJobRef returns the controller reference of a job if a CronJob
// controls it.
func cronJobRef(job *batchv1.Job) *metav1.OwnerReference {
	ref := metav1.GetControllerOfNoCopy(job)
	if ref == nil || ref.Kind != "CronJob" {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != batchv1.GroupName {
		return nil
	}
	return ref
}

func controllingCronJobUID(obj any) ([]string, error) {
	if job, ok := obj.(*batchv1.Job); ok {
		if ref := cronJobRef(job); ref != nil {
			return []string{string(ref.UID)}, nil
		}
	}
	return nil, nil
}

// jobsOf returns the cached jobs the cron job controls; callers must not
// mutate them.
func (c *Controller) jobsOf(cj *batchv1.CronJob) []*batchv1.Job {
	objs, err := c.jobIndex.ByIndex(jobsByCronJobIndex, string(cj.UID))
	if err != nil {
		return nil // only an unknown index fails, and New added it
	}
	jobs := make([]*batchv1.Job, 0, len(objs))
	for _, obj := range objs {
		if job, ok := obj.(*batchv1.Job); ok && job.Namespace == cj.Namespace {
			jobs = append(jobs, job)
		}
	}
	return jobs
}
