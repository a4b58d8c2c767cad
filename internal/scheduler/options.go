package scheduler

import (
	"errors"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/queue"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// Options configure a Scheduler.
type Options struct {
	// Client talks to the API server: binding, pod status, events.
	// Required.
	Client kubernetes.Interface
	// InformerFactory provides the pod and node informers (and any a
	// plugin asks for). Run starts it and shuts it down. Its objects are
	// only read; a factory may drop their managedFields, which no plugin
	// reads. Required.
	InformerFactory informers.SharedInformerFactory
	// Clock drives back-off, time-outs and assumed-pod expiry. Default:
	// the real clock.
	Clock clock.Clock
	// Registry holds the plugin factories; the built-in ones are
	// plugins.Registry(). Required.
	Registry runtime.Registry
	// Profile says which plugins run where; kube-scheduler's default is
	// plugins.DefaultProfile(). Its SchedulerName is replaced by
	// SchedulerName. Required.
	Profile *runtime.Profile
	// SchedulerName is the spec.schedulerName of the pods this scheduler
	// schedules (an empty schedulerName counts as the default). Default
	// "default-scheduler".
	SchedulerName string
	// Parallelism is how many goroutines filter and score nodes. Default 16.
	Parallelism int
	// PercentageOfNodesToScore stops the search for feasible nodes once
	// this share of the nodes (but at least 100) fit. 0 means adaptive:
	// 50% minus 1% per 125 nodes, at least 5%. Default 0.
	PercentageOfNodesToScore int32
	// PodInitialBackoff is the back-off after a pod's first failed
	// attempt, doubling per attempt up to PodMaxBackoff. Defaults 1s, 10s.
	PodInitialBackoff time.Duration
	PodMaxBackoff     time.Duration
	// PodMaxInUnschedulablePodsDuration is how long an unschedulable pod
	// waits for a helpful cluster event before it is retried anyway.
	// Default 5m.
	PodMaxInUnschedulablePodsDuration time.Duration
	// AssumedPodTTL is how long a bound pod may stay unconfirmed by the
	// informer before the cache drops it. Default 30s.
	AssumedPodTTL time.Duration
	// MaxInFlightBindings bounds the binding cycles running at once; the
	// scheduling loop waits for a free slot. Default 256.
	MaxInFlightBindings int
	// EventRecorder records Scheduled and FailedScheduling events.
	// Default: an events.k8s.io recorder through Client, reporting as
	// SchedulerName, started and stopped by Run.
	EventRecorder events.EventRecorder
}

// Defaults of Options.
const (
	DefaultSchedulerName       = "default-scheduler"
	DefaultMaxInFlightBindings = 256
)

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.SchedulerName == "" {
		o.SchedulerName = DefaultSchedulerName
	}
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.DefaultParallelism
	}
	if o.PodInitialBackoff <= 0 {
		o.PodInitialBackoff = queue.DefaultInitialBackoff
	}
	if o.PodMaxBackoff <= 0 {
		o.PodMaxBackoff = queue.DefaultMaxBackoff
	}
	if o.PodMaxInUnschedulablePodsDuration <= 0 {
		o.PodMaxInUnschedulablePodsDuration = queue.DefaultMaxInUnschedulable
	}
	if o.AssumedPodTTL <= 0 {
		o.AssumedPodTTL = cache.DefaultAssumedPodTTL
	}
	if o.MaxInFlightBindings <= 0 {
		o.MaxInFlightBindings = DefaultMaxInFlightBindings
	}
	return o
}

// Validate reports missing or contradictory options.
func (o Options) Validate() error {
	switch {
	case o.Client == nil:
		return errors.New("scheduler: a client is required")
	case o.InformerFactory == nil:
		return errors.New("scheduler: an informer factory is required")
	case o.Registry == nil || o.Profile == nil:
		return errors.New("scheduler: a plugin registry and a profile are required")
	case o.PercentageOfNodesToScore < 0 || o.PercentageOfNodesToScore > 100:
		return errors.New("scheduler: percentageOfNodesToScore must be within [0, 100]")
	case o.PodInitialBackoff > 0 && o.PodMaxBackoff > 0 && o.PodInitialBackoff > o.PodMaxBackoff:
		return errors.New("scheduler: the initial back-off must not exceed the maximum")
	}
	return nil
}
