// Package nodelifecycle is the node lifecycle controller: it marks nodes
// whose kubelet went silent as Unknown, keeps the condition taints
// (not-ready, unreachable, pressure, unschedulable) in line with each node's
// status, and evicts pods that do not tolerate a node's NoExecute taints.
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	coordinationinformers "k8s.io/client-go/informers/coordination/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// ReportingController is the name the controller's Events carry.
const ReportingController = "node-controller"

// podsByNodeIndex indexes the pod cache by spec.nodeName; the name is ours
// so that it cannot collide with another controller's index on the same
// shared informer.
const podsByNodeIndex = "nodelifecycle/nodeName"

// Config is what the controller needs.
type Config struct {
	// Client writes node status, taints, pod status and deletions.
	Client kubernetes.Interface
	// Nodes, Leases and Pods are shared informers; the controller adds its
	// handlers and a pod index, so it must be built before they start.
	Nodes  coreinformers.NodeInformer
	Leases coordinationinformers.LeaseInformer
	Pods   coreinformers.PodInformer
	// GracePeriod is how long a node may go without a heartbeat (Lease
	// renewal or Ready heartbeat) before it is marked Unknown. Required.
	GracePeriod time.Duration
	// Clock decides every "now". Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
}

// Controller watches node heartbeats and evicts pods from tainted nodes.
type Controller struct {
	client   kubernetes.Interface
	nodes    corelisters.NodeLister
	leases   coordinationlisters.LeaseLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	synced   []cache.InformerSynced
	grace    time.Duration
	clock    clock.PassiveClock
	recorder events.EventRecorder

	// health is keyed by node name, pending by pod key; both are touched
	// by several workers.
	mu      sync.Mutex
	health  map[string]*nodeHealth
	pending map[string]time.Time

	healthLoop   *controller.Loop
	evictionLoop *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("node lifecycle controller: a Recorder is required")
	}
	if cfg.GracePeriod <= 0 {
		return nil, fmt.Errorf("node lifecycle controller: grace period must be positive, got %v", cfg.GracePeriod)
	}
	c := &Controller{
		client:   cfg.Client,
		nodes:    cfg.Nodes.Lister(),
		leases:   cfg.Leases.Lister(),
		pods:     cfg.Pods.Lister(),
		podIndex: cfg.Pods.Informer().GetIndexer(),
		synced: []cache.InformerSynced{cfg.Nodes.Informer().HasSynced, cfg.Leases.Informer().HasSynced,
			cfg.Pods.Informer().HasSynced},
		grace:    cfg.GracePeriod,
		clock:    cfg.Clock,
		recorder: cfg.Recorder,
		health:   map[string]*nodeHealth{},
		pending:  map[string]time.Time{},
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.healthLoop = controller.New("node-lifecycle", 2, c.syncNode)
	c.evictionLoop = controller.New("taint-eviction", 2, c.syncPod)
	if err := cfg.Pods.Informer().AddIndexers(cache.Indexers{podsByNodeIndex: podNodeName}); err != nil {
		return nil, fmt.Errorf("index pods by node: %w", err)
	}
	if err := c.addHandlers(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.healthLoop.Run(gctx, c.synced...) })
	g.Go(func() error { return c.evictionLoop.Run(gctx, c.synced...) })
	return g.Wait()
}

func (c *Controller) addHandlers(cfg Config) error {
	if _, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			c.healthLoop.EnqueueObject(obj)
			if node, ok := obj.(*corev1.Node); ok && len(noExecuteTaints(node)) > 0 {
				c.enqueuePodsOn(node.Name)
			}
		},
		UpdateFunc: func(old, obj any) {
			c.healthLoop.EnqueueObject(obj)
			oldNode, ok1 := old.(*corev1.Node)
			node, ok2 := obj.(*corev1.Node)
			if ok1 && ok2 && !sameTaints(noExecuteTaints(oldNode), noExecuteTaints(node)) {
				c.enqueuePodsOn(node.Name)
			}
		},
		DeleteFunc: c.healthLoop.EnqueueObject,
	}); err != nil {
		return fmt.Errorf("watch nodes: %w", err)
	}
	onLease := func(obj any) {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		if lease, ok := obj.(*coordinationv1.Lease); ok && lease.Namespace == corev1.NamespaceNodeLease {
			c.healthLoop.Enqueue(lease.Name)
		}
	}
	if _, err := cfg.Leases.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onLease,
		UpdateFunc: func(_, obj any) { onLease(obj) },
		DeleteFunc: onLease,
	}); err != nil {
		return fmt.Errorf("watch leases: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" {
				c.evictionLoop.EnqueueObject(pod)
			}
		},
		UpdateFunc: func(old, obj any) {
			oldPod, ok1 := old.(*corev1.Pod)
			pod, ok2 := obj.(*corev1.Pod)
			if ok1 && ok2 && evictionInputsChanged(oldPod, pod) {
				c.evictionLoop.EnqueueObject(pod)
			}
		},
		// A deleted pod's pending eviction is forgotten by its sync.
		DeleteFunc: c.evictionLoop.EnqueueObject,
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	return nil
}

// evictionInputsChanged reports whether an update touched what taint
// eviction decides on; status updates, the common case, do not.
func evictionInputsChanged(old, pod *corev1.Pod) bool {
	if old.Spec.NodeName != pod.Spec.NodeName || (old.DeletionTimestamp == nil) != (pod.DeletionTimestamp == nil) {
		return true
	}
	if len(old.Spec.Tolerations) != len(pod.Spec.Tolerations) {
		return true
	}
	for i := range pod.Spec.Tolerations {
		a, b := old.Spec.Tolerations[i], pod.Spec.Tolerations[i]
		if !a.MatchToleration(&b) || !equalSeconds(a.TolerationSeconds, b.TolerationSeconds) {
			return true
		}
	}
	return false
}

func equalSeconds(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func (c *Controller) enqueuePodsOn(nodeName string) {
	for _, pod := range c.podsOn(nodeName) {
		c.evictionLoop.EnqueueObject(pod)
	}
}

// podsOn returns the cached pods bound to nodeName; callers must not
// mutate them.
func (c *Controller) podsOn(nodeName string) []*corev1.Pod {
	objs, err := c.podIndex.ByIndex(podsByNodeIndex, nodeName)
	if err != nil {
		return nil // only an unknown index fails, and New added it
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, obj := range objs {
		if pod, ok := obj.(*corev1.Pod); ok {
			pods = append(pods, pod)
		}
	}
	return pods
}

func podNodeName(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return nil, nil
	}
	return []string{pod.Spec.NodeName}, nil
}
