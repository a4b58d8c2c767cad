// Package daemonset is the DaemonSet controller: it runs one pod on every
// node the template fits (node selector, required node affinity, taints
// against tolerations), pinning each pod to its node with a matchFields
// node affinity so the scheduler binds it, follows nodes as they come and
// go, and rolls template changes out within maxUnavailable and maxSurge,
// recording templates as ControllerRevisions.
package daemonset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
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
const ReportingController = "daemonset-controller"

const defaultWorkers = 2

var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Config is what the controller needs.
type Config struct {
	// Client writes pods, revisions and status.
	Client kubernetes.Interface
	// DaemonSets, Nodes, Pods and ControllerRevisions are shared
	// informers; the controller adds handlers and indexes, so they must be
	// built before the informers start.
	DaemonSets          appsinformers.DaemonSetInformer
	Nodes               coreinformers.NodeInformer
	Pods                coreinformers.PodInformer
	ControllerRevisions appsinformers.ControllerRevisionInformer
	// Clock decides availability (minReadySeconds). Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
	// Workers is the number of daemon sets synced concurrently. Default 2.
	Workers int
}

// Controller keeps the pods of DaemonSets.
type Controller struct {
	client   kubernetes.Interface
	sets     appslisters.DaemonSetLister
	nodes    corelisters.NodeLister
	podIndex cache.Indexer
	revIndex cache.Indexer
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	recorder events.EventRecorder
	exp      *expectations
	loop     *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("daemonset controller: a Recorder is required")
	}
	c := &Controller{
		client:   cfg.Client,
		sets:     cfg.DaemonSets.Lister(),
		nodes:    cfg.Nodes.Lister(),
		podIndex: cfg.Pods.Informer().GetIndexer(),
		revIndex: cfg.ControllerRevisions.Informer().GetIndexer(),
		synced: []cache.InformerSynced{cfg.DaemonSets.Informer().HasSynced, cfg.Nodes.Informer().HasSynced,
			cfg.Pods.Informer().HasSynced, cfg.ControllerRevisions.Informer().HasSynced},
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
	c.exp = newExpectations(c.clock)
	c.loop = controller.New("daemonset", workers, c.sync)
	if err := controller.EnsureOwnerIndex(cfg.Pods.Informer(), cfg.ControllerRevisions.Informer()); err != nil {
		return nil, err
	}
	if _, err := cfg.DaemonSets.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch daemonsets: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.onPod(obj, 1, 0) },
		UpdateFunc: func(oldObj, obj any) {
			old, ok1 := oldObj.(*corev1.Pod)
			pod, ok2 := obj.(*corev1.Pod)
			if ok1 && ok2 && old.DeletionTimestamp == nil && pod.DeletionTimestamp != nil {
				c.onPod(obj, 0, 1) // deletion began: the pod no longer counts
				return
			}
			c.onPod(obj, 0, 0)
		},
		DeleteFunc: func(obj any) { c.onPod(obj, 0, 1) },
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if _, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAll() },
		UpdateFunc: c.onNodeUpdate,
		DeleteFunc: func(any) { c.enqueueAll() },
	}); err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop.Run(ctx, c.synced...)
}

// onPod records what the informer saw and enqueues the owning set.
func (c *Controller) onPod(obj any, created, deleted int) {
	pod, ok := controller.As[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := controller.RefOfKind(pod, controllerKind)
	if ref == nil {
		return
	}
	key := pod.Namespace + "/" + ref.Name
	if created > 0 && pod.DeletionTimestamp != nil {
		created, deleted = 0, 0 // seen first while terminating: no longer expected either way
	}
	c.exp.observed(key, created, deleted)
	c.loop.Enqueue(key)
}

// onNodeUpdate re-evaluates every set when something placement depends
// on changed; heartbeats alone do not.
func (c *Controller) onNodeUpdate(oldObj, obj any) {
	old, ok1 := oldObj.(*corev1.Node)
	node, ok2 := obj.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	if labelsEqual(old.Labels, node.Labels) && taintsEqual(old.Spec.Taints, node.Spec.Taints) &&
		old.Spec.Unschedulable == node.Spec.Unschedulable {
		return
	}
	c.enqueueAll()
}

func (c *Controller) enqueueAll() {
	all, err := c.sets.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		c.loop.EnqueueObject(ds)
	}
}

func labelsEqual(a, b map[string]string) bool {
	return labels.Equals(a, b)
}

func taintsEqual(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].MatchTaint(&b[i]) || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}
