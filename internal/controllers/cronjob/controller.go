// Package cronjob is the CronJob controller: it creates a Job from each
// CronJob's template at the times its schedule names (in its time zone),
// applies the concurrency policy and starting deadline, keeps the
// CronJob's status (active jobs, last schedule and success times) and
// deletes finished jobs beyond the history limits.
package cronjob

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
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
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
}

// Controller runs CronJobs.
type Controller struct {
	client   kubernetes.Interface
	cronJobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	jobIndex cache.Indexer
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	recorder events.EventRecorder
	loop     *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("cronjob controller: a Recorder is required")
	}
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
	c.loop = controller.New("cronjob", 2, c.sync)
	if err := cfg.Jobs.Informer().AddIndexers(cache.Indexers{jobsByCronJobIndex: controller.IndexByRefOfGroupKind(cronJobKind)}); err != nil {
		return nil, fmt.Errorf("index jobs by cron job: %w", err)
	}
	if _, err := cfg.CronJobs.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch cron jobs: %w", err)
	}
	onJob := func(obj any) {
		if job, ok := controller.As[*batchv1.Job](obj); ok {
			if ref := cronJobRef(job); ref != nil {
				c.loop.Enqueue(job.Namespace + "/" + ref.Name)
			}
		}
	}
	if _, err := cfg.Jobs.Informer().AddEventHandler(controller.OnEvery(onJob)); err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop.Run(ctx, c.synced...)
}

// cronJobRef returns the controller reference of a job if a CronJob
// controls it.
func cronJobRef(job *batchv1.Job) *metav1.OwnerReference {
	return controller.RefOfGroupKind(job, cronJobKind)
}

// cronJobKind is the kind a job's controller reference names for a
// CronJob, in any version of the batch group.
var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob").GroupKind()

// jobsOf returns the cached jobs the cron job controls; callers must not
// mutate them.
func (c *Controller) jobsOf(cj *batchv1.CronJob) []*batchv1.Job {
	return controller.OwnedIn[*batchv1.Job](c.jobIndex, jobsByCronJobIndex, cj.UID, cj.Namespace)
}
