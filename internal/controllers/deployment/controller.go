// Package deployment is the Deployment controller: it rolls a Deployment's
// pod template out through one ReplicaSet per template revision (rolling
// update or recreate), scales them in proportion when the Deployment is
// resized mid-rollout, keeps the revision history kubectl rollout reads,
// and reports progress and availability in status.
package deployment

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// ReportingController is the name the controller's Events carry.
const ReportingController = "deployment-controller"

// defaultWorkers is how many Deployments are synced at once.
const defaultWorkers = 5

// Config is what the controller needs.
type Config struct {
	// Client writes ReplicaSets and Deployment status.
	Client kubernetes.Interface
	// Deployments, ReplicaSets and Pods are shared informers; the
	// controller adds handlers and controller.OwnerIndex, so it must be
	// built before they start.
	Deployments appsinformers.DeploymentInformer
	ReplicaSets appsinformers.ReplicaSetInformer
	Pods        coreinformers.PodInformer
	// Clock decides progress deadlines. Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
	// Workers is the number of Deployments synced concurrently. Default 5.
	Workers int
}

// Controller rolls out Deployments.
type Controller struct {
	client   kubernetes.Interface
	lister   appslisters.DeploymentLister
	rsLister appslisters.ReplicaSetLister
	rsIndex  cache.Indexer
	podIndex cache.Indexer
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	recorder events.EventRecorder
	loop     *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("deployment controller: a Recorder is required")
	}
	c := &Controller{
		client:   cfg.Client,
		lister:   cfg.Deployments.Lister(),
		rsLister: cfg.ReplicaSets.Lister(),
		rsIndex:  cfg.ReplicaSets.Informer().GetIndexer(),
		podIndex: cfg.Pods.Informer().GetIndexer(),
		synced: []cache.InformerSynced{cfg.Deployments.Informer().HasSynced, cfg.ReplicaSets.Informer().HasSynced,
			cfg.Pods.Informer().HasSynced},
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
	c.loop = controller.New("deployment", workers, c.sync)
	if err := controller.EnsureOwnerIndex(cfg.ReplicaSets.Informer(), cfg.Pods.Informer()); err != nil {
		return nil, err
	}
	if _, err := cfg.Deployments.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch deployments: %w", err)
	}
	if _, err := cfg.ReplicaSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.onReplicaSet(nil, obj) },
		UpdateFunc: c.onReplicaSet,
		DeleteFunc: func(obj any) { c.onReplicaSet(nil, obj) },
	}); err != nil {
		return nil, fmt.Errorf("watch replica sets: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: c.onPodDeleted,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop.Run(ctx, c.synced...)
}

// onReplicaSet enqueues the Deployment that controls the ReplicaSet (old
// and new owner when it changed), or for an orphan every Deployment that
// could adopt it.
func (c *Controller) onReplicaSet(oldObj, obj any) {
	rs, ok := controller.As[*appsv1.ReplicaSet](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(rs)
	if old, ok := oldObj.(*appsv1.ReplicaSet); ok {
		if oldRef := metav1.GetControllerOfNoCopy(old); oldRef != nil && (ref == nil || oldRef.UID != ref.UID) {
			c.enqueueOwner(old.Namespace, oldRef)
		}
	}
	if ref != nil {
		c.enqueueOwner(rs.Namespace, ref)
		return
	}
	ds, err := c.lister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.loop.EnqueueObject(d)
		}
	}
}

// onPodDeleted wakes a Recreate Deployment waiting for its old pods to go.
func (c *Controller) onPodDeleted(obj any) {
	pod, ok := controller.As[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil || owner.Kind != "Deployment" {
		return
	}
	// Rolling updates do not wait for pods to go; skipping them keeps a
	// large scale-down from waking the Deployment once per pod.
	if d, err := c.lister.Deployments(rs.Namespace).Get(owner.Name); err == nil &&
		d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.enqueueOwner(rs.Namespace, owner)
	}
}

func (c *Controller) enqueueOwner(namespace string, ref *metav1.OwnerReference) {
	get := func(namespace, name string) (*appsv1.Deployment, error) {
		return c.lister.Deployments(namespace).Get(name)
	}
	if key := controller.ResolveRef(namespace, ref, appsv1.SchemeGroupVersion.WithKind("Deployment"), get); key != "" {
		c.loop.Enqueue(key)
	}
}

// podsOf returns the cached pods controlled by the ReplicaSet uid.
func (c *Controller) podsOf(uid types.UID) []*corev1.Pod {
	return controller.Owned[*corev1.Pod](c.podIndex, uid)
}
