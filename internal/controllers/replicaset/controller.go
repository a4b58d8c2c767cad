// Package replicaset is the ReplicaSet and ReplicationController
// controller: it keeps spec.replicas pods matching each object's selector,
// adopting and releasing pods through controller owner references, and
// reports their readiness and availability in status. Both kinds share one
// implementation; a small adapter per kind converts at the edges.
package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// Names the Events of each kind carry as reportingController.
const (
	ReplicaSetReportingController            = "replicaset-controller"
	ReplicationControllerReportingController = "replication-controller"
)

// defaultWorkers is how many keys are synced at once.
const defaultWorkers = 5

// Config is what the controller needs besides its kind's informer.
type Config struct {
	// Client creates, patches and deletes pods and writes status.
	Client kubernetes.Interface
	// Pods is the shared pod informer; the controller adds a handler and
	// controller.OwnerIndex, so it must be built before the informer starts.
	Pods coreinformers.PodInformer
	// Clock decides availability (minReadySeconds). Default the real clock.
	Clock clock.PassiveClock
	// Recorder records Events; the caller runs its broadcaster. Required.
	Recorder events.EventRecorder
	// Workers is the number of keys synced concurrently. Default 5.
	Workers int
}

// Controller keeps the pods of one kind of replica controller.
type Controller struct {
	kind     kind
	client   kubernetes.Interface
	pods     corelisters.PodLister
	podIndex cache.Indexer
	// owned files the pods by controller, for syncs' walks of their pods.
	owned *controller.OwnedSets[*corev1.Pod, podFacts]
	// labelForms shares the label strings of the pods' facts.
	labelForms labelForms
	synced     []cache.InformerSynced
	clock      clock.PassiveClock
	recorder   *limitedRecorder
	// rest posts pods without decoding the response (nil for fake
	// clientsets: see controller.RESTClientOf).
	rest *rest.RESTClient
	exp  *expectations
	loop *controller.Loop
	// hasTerminating is whether the kind's status has terminatingReplicas.
	hasTerminating bool
	// podCounts holds how many pods each owner (by key) had at its last
	// sync, which sets how long its pods' status changes are batched.
	podCounts sync.Map
}

// NewReplicaSets returns the ReplicaSet controller; Run starts it.
func NewReplicaSets(cfg Config, replicaSets appsinformers.ReplicaSetInformer) (*Controller, error) {
	return newController(cfg, newReplicaSets(cfg.Client, replicaSets), "replicaset", true)
}

// NewReplicationControllers returns the ReplicationController controller;
// Run starts it.
func NewReplicationControllers(cfg Config, rcs coreinformers.ReplicationControllerInformer) (*Controller, error) {
	return newController(cfg, newReplicationControllers(cfg.Client, rcs), "replicationcontroller", false)
}

func newController(cfg Config, k kind, name string, hasTerminating bool) (*Controller, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("replica set controller: a Recorder is required")
	}
	c := &Controller{
		kind:           k,
		client:         cfg.Client,
		pods:           cfg.Pods.Lister(),
		podIndex:       cfg.Pods.Informer().GetIndexer(),
		synced:         []cache.InformerSynced{k.informer().HasSynced},
		clock:          cfg.Clock,
		rest:           controller.RESTClientOf(cfg.Client.CoreV1().RESTClient()),
		hasTerminating: hasTerminating,
	}
	c.owned = controller.NewOwnedSets(func(pod *corev1.Pod) podFacts { return factsOf(pod, &c.labelForms) })
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.recorder = newLimitedRecorder(cfg.Recorder, c.clock)
	workers := cfg.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	c.exp = newExpectations(c.clock)
	c.loop = controller.New(name, workers, c.sync)
	if err := controller.EnsureOwnerIndex(cfg.Pods.Informer(), k.informer()); err != nil {
		return nil, err
	}
	if _, err := k.informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: c.updateOwner,
		DeleteFunc: c.loop.EnqueueObject,
	}); err != nil {
		return nil, fmt.Errorf("watch %s: %w", k.gvk().Kind, err)
	}
	// The pods are filed by owner before the owner is queued.
	pods, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.owned.OnAdd(obj); c.addPod(obj) },
		UpdateFunc: func(old, obj any) { c.owned.OnUpdate(old, obj); c.updatePod(old, obj) },
		DeleteFunc: func(obj any) { c.owned.OnDelete(obj); c.deletePod(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	c.synced = append(c.synced, pods.HasSynced)
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop.Run(ctx, c.synced...)
}

// ownerKey returns the key of the object of this controller's kind that
// ref names in namespace, or "" when ref is another kind or the object is
// gone or was replaced (another UID).
func (c *Controller) ownerKey(namespace string, ref *metav1.OwnerReference) string {
	return controller.ResolveRef(namespace, ref, c.kind.gvk(), func(namespace, name string) (*appsv1.ReplicaSet, error) {
		rs, _, err := c.kind.get(namespace, name)
		return rs, err
	})
}

// keysSelecting returns the keys of the objects of this kind in the pod's
// namespace whose selector matches it: the candidates to adopt an orphan.
func (c *Controller) keysSelecting(pod *corev1.Pod) []string {
	all, err := c.kind.list(pod.Namespace)
	if err != nil {
		return nil
	}
	var keys []string
	for _, rs := range all {
		if sel, ok := selectorOf(rs); ok && sel.Matches(labelsOf(pod)) {
			keys = append(keys, rs.Namespace+"/"+rs.Name)
		}
	}
	return keys
}

// replicas is spec.replicas, defaulted.
func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}
