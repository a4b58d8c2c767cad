// Package statefulset is the StatefulSet controller: it runs one pod per
// ordinal with a stable name, hostname and persistent volume claims,
// creates and removes them in order (or in parallel), rolls templates out
// from the highest ordinal down, and records templates as
// ControllerRevisions for `kubectl rollout history/undo`.
package statefulset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
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
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
	// Workers is the number of sets synced concurrently. Default 5.
	Workers int
}

// Controller keeps the pods of StatefulSets.
type Controller struct {
	client   kubernetes.Interface
	sets     appslisters.StatefulSetLister
	claims   corelisters.PersistentVolumeClaimLister
	podIndex cache.Indexer
	revIndex cache.Indexer
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	recorder events.EventRecorder
	loop     *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("statefulset controller: a Recorder is required")
	}
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
	workers := cfg.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	c.loop = controller.New("statefulset", workers, c.sync)
	if err := controller.EnsureOwnerIndex(cfg.Pods.Informer(), cfg.ControllerRevisions.Informer()); err != nil {
		return nil, err
	}
	if _, err := cfg.StatefulSets.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch statefulsets: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(controller.OnEvery(c.onPod)); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop.Run(ctx, c.synced...)
}

// onPod enqueues the set controlling the pod: its pods' progress is what
// an ordered set waits for.
func (c *Controller) onPod(obj any) {
	pod, ok := controller.As[*corev1.Pod](obj)
	if !ok {
		return
	}
	if ref := controller.RefOfKind(pod, controllerKind); ref != nil {
		c.loop.Enqueue(pod.Namespace + "/" + ref.Name)
	}
}
