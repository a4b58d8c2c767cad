// Package statefulset is the StatefulSet controller: it runs one pod per
// ordinal with a stable name, hostname and persistent volume claims,
// creates and removes them in order (or in parallel), rolls templates out
// from the highest ordinal down, and records templates as
// ControllerRevisions for `kubectl rollout history/undo`.
package statefulset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/replicaset"
)

// ReportingController is the name the controller's Events carry.
const ReportingController = "statefulset-controller"

// defaultWorkers is how many sets are synced at once.
const defaultWorkers = 5

// controllerKind is the kind put in owner references.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Config is what the controller needs.
type Config struct {
	// Client writes pods, claims, revisions and status.
	Client kubernetes.Interface
	// StatefulSets, Pods, PersistentVolumeClaims and ControllerRevisions
	// are shared informers; the controller adds handlers and indexes, so
	// they must be built before the informers start.
	StatefulSets           appsinformers.StatefulSetInformer
	Pods                   coreinformers.PodInformer
	PersistentVolumeClaims coreinformers.PersistentVolumeClaimInformer
	ControllerRevisions    appsinformers.ControllerRevisionInformer
	// Clock decides availability (minReadySeconds). Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events. Default: Events written by Run.
	Recorder events.EventRecorder
	// Workers is the number of sets synced concurrently. Default 5.
	Workers int
}

// Controller keeps the pods of StatefulSets.
type Controller struct {
	client      kubernetes.Interface
	sets        appslisters.StatefulSetLister
	claims      corelisters.PersistentVolumeClaimLister
	podIndex    cache.Indexer
	revIndex    cache.Indexer
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
		sets:     cfg.StatefulSets.Lister(),
		claims:   cfg.PersistentVolumeClaims.Lister(),
		podIndex: cfg.Pods.Informer().GetIndexer(),
		revIndex: cfg.ControllerRevisions.Informer().GetIndexer(),
		synced: []cache.InformerSynced{cfg.StatefulSets.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.PersistentVolumeClaims.Informer().HasSynced, cfg.ControllerRevisions.Informer().HasSynced},
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
	workers := cfg.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	c.loop = controller.New("statefulset", workers, c.sync)
	for _, inf := range []cache.SharedIndexInformer{cfg.Pods.Informer(), cfg.ControllerRevisions.Informer()} {
		if err := replicaset.EnsureOwnerIndex(inf); err != nil {
			return nil, err
		}
	}
	if _, err := cfg.StatefulSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
		DeleteFunc: c.loop.EnqueueObject,
	}); err != nil {
		return nil, fmt.Errorf("watch statefulsets: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPod,
		UpdateFunc: func(_, obj any) { c.onPod(obj) },
		DeleteFunc: c.onPod,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
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

// onPod enqueues the set controlling the pod: its pods' progress is what
// an ordered set waits for.
func (c *Controller) onPod(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != controllerKind.Kind || ref.APIVersion != controllerKind.GroupVersion().String() {
		return
	}
	c.loop.Enqueue(pod.Namespace + "/" + ref.Name)
}
