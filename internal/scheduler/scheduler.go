package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/queue"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// Scheduler is one scheduler profile at work.
type Scheduler struct {
	opts        Options
	cache       *cache.Cache
	snapshot    *cache.Snapshot
	queue       *queue.Queue
	fwk         *runtime.Framework
	podLister   corelisters.PodLister
	broadcaster events.EventBroadcaster // nil when the recorder was given
	recorder    events.EventRecorder
	synced      []toolscache.InformerSynced

	// Owned by the scheduling loop.
	nextStartNodeIndex int
	rand               *rand.Rand

	bindings *bindingPool
}

// New builds a scheduler: its plugins, queue, cache and informer
// handlers. Nothing runs until Run.
func New(ctx context.Context, opts Options) (*Scheduler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Scheduler{
		opts:     opts,
		cache:    cache.New(cache.Options{Clock: opts.Clock, AssumedPodTTL: opts.AssumedPodTTL}),
		snapshot: cache.NewSnapshot(),
		recorder: opts.EventRecorder,
		rand:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		bindings: newBindingPool(opts.MaxInFlightBindings),
	}
	if s.recorder == nil {
		s.broadcaster = events.NewBroadcaster(controller.NewEventSink(opts.Client))
		s.recorder = s.broadcaster.NewRecorder(scheme.Scheme, opts.SchedulerName)
	}
	profile := *opts.Profile
	profile.SchedulerName = opts.SchedulerName
	nominator := queue.NewNominator()
	fwk, err := runtime.New(ctx, runtime.Config{
		Registry:        opts.Registry,
		Profile:         profile,
		Client:          opts.Client,
		InformerFactory: opts.InformerFactory,
		EventRecorder:   s.recorder,
		Snapshot:        s.snapshot,
		Nominator:       nominator,
		Parallelism:     opts.Parallelism,
	})
	if err != nil {
		return nil, err
	}
	s.fwk = fwk
	s.queue = queue.New(queue.Options{
		Clock:              opts.Clock,
		InitialBackoff:     opts.PodInitialBackoff,
		MaxBackoff:         opts.PodMaxBackoff,
		MaxInUnschedulable: opts.PodMaxInUnschedulablePodsDuration,
		PluginEvents:       fwk.EventsToRegister(),
		Nominator:          nominator,
	})
	s.podLister = opts.InformerFactory.Core().V1().Pods().Lister()
	if err := s.addEventHandlers(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run schedules pods until ctx ends, then waits for the binding cycles,
// the queue and the informers to stop.
func (s *Scheduler) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("scheduler", s.opts.SchedulerName)
	ctx = klog.NewContext(ctx, logger)
	if s.broadcaster != nil {
		if err := s.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
			return fmt.Errorf("start event recording: %w", err)
		}
		defer s.broadcaster.Shutdown()
	}
	s.opts.InformerFactory.Start(ctx.Done())
	defer s.opts.InformerFactory.Shutdown()
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil // ctx ended first
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.queue.Run(ctx) })
	wg.Go(func() { s.cache.Run(ctx) })
	logger.V(2).Info("Scheduler started")
	for ctx.Err() == nil {
		s.scheduleOne(ctx)
	}
	s.bindings.stop()
	wg.Wait()
	return nil
}
