// Package disruption is the PodDisruptionBudget controller: it counts the
// healthy pods each budget selects and publishes how many of them may be
// disrupted, which the pods/eviction endpoint spends.
package disruption

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// Config is what the controller needs.
type Config struct {
	// Client writes budget status.
	Client kubernetes.Interface
	// Shared informers; the controller adds handlers, so they must be
	// built before the informers start.
	Budgets                policyinformers.PodDisruptionBudgetInformer
	Pods                   coreinformers.PodInformer
	ReplicaSets            appsinformers.ReplicaSetInformer
	Deployments            appsinformers.DeploymentInformer
	StatefulSets           appsinformers.StatefulSetInformer
	ReplicationControllers coreinformers.ReplicationControllerInformer
	// Clock expires disruptedPods entries. Default the real clock.
	Clock clock.PassiveClock
}

// Controller keeps PodDisruptionBudget status current.
type Controller struct {
	client  kubernetes.Interface
	budgets policylisters.PodDisruptionBudgetLister
	pods    corelisters.PodLister
	rs      appslisters.ReplicaSetLister
	deploys appslisters.DeploymentLister
	sets    appslisters.StatefulSetLister
	rcs     corelisters.ReplicationControllerLister
	synced  []cache.InformerSynced
	clock   clock.PassiveClock
	loop    *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:  cfg.Client,
		budgets: cfg.Budgets.Lister(),
		pods:    cfg.Pods.Lister(),
		rs:      cfg.ReplicaSets.Lister(),
		deploys: cfg.Deployments.Lister(),
		sets:    cfg.StatefulSets.Lister(),
		rcs:     cfg.ReplicationControllers.Lister(),
		clock:   cfg.Clock,
	}
	for _, inf := range []cache.SharedIndexInformer{cfg.Budgets.Informer(), cfg.Pods.Informer(), cfg.ReplicaSets.Informer(),
		cfg.Deployments.Informer(), cfg.StatefulSets.Informer(), cfg.ReplicationControllers.Informer()} {
		c.synced = append(c.synced, inf.HasSynced)
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.loop = controller.New("disruption", 2, c.sync)
	if _, err := cfg.Budgets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
	}); err != nil {
		return nil, fmt.Errorf("watch poddisruptionbudgets: %w", err)
	}
	onPod := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			c.enqueueBudgetsOf(pod)
		}
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onPod,
		UpdateFunc: func(old, obj any) { onPod(old); onPod(obj) },
		DeleteFunc: onPod,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	// A controller's scale changes expectedPods: look at the namespace's
	// budgets again.
	onScale := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			c.enqueueNamespace(m.GetNamespace())
		}
	}
	scaleHandler := cache.ResourceEventHandlerFuncs{AddFunc: onScale, UpdateFunc: func(_, obj any) { onScale(obj) }, DeleteFunc: onScale}
	for name, inf := range map[string]cache.SharedIndexInformer{"replicasets": cfg.ReplicaSets.Informer(),
		"deployments": cfg.Deployments.Informer(), "statefulsets": cfg.StatefulSets.Informer(),
		"replicationcontrollers": cfg.ReplicationControllers.Informer()} {
		if _, err := inf.AddEventHandler(scaleHandler); err != nil {
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

func (c *Controller) enqueueBudgetsOf(pod *corev1.Pod) {
	pdbs, err := c.budgets.PodDisruptionBudgets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, pdb := range pdbs {
		if sel, ok := selector(pdb); ok && sel.Matches(labels.Set(pod.Labels)) {
			c.loop.EnqueueObject(pdb)
		}
	}
}

func (c *Controller) enqueueNamespace(ns string) {
	pdbs, err := c.budgets.PodDisruptionBudgets(ns).List(labels.Everything())
	if err != nil {
		return
	}
	for _, pdb := range pdbs {
		c.loop.EnqueueObject(pdb)
	}
}

// selector is the budget's pod selector; in policy/v1 an empty one selects
// every pod of the namespace and a missing one none.
func selector(pdb *policyv1.PodDisruptionBudget) (labels.Selector, bool) {
	if pdb.Spec.Selector == nil {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	return sel, err == nil
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	pdb, err := c.budgets.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if sel, ok := selector(pdb); ok {
		if pods, err = c.pods.Pods(ns).List(sel); err != nil {
			return err
		}
	}
	now := c.clock.Now()
	var status policyv1.PodDisruptionBudgetStatus
	var next time.Time
	counts, err := Desired(pdb.Spec, int32(len(pods)), func() (int32, error) { return c.expectedScale(pods) })
	if err != nil {
		status = FailedStatus(pdb, err, now)
	} else {
		healthy, disrupted, expiry := Healthy(pods, pdb.Status.DisruptedPods, now)
		status = Status(pdb, counts, healthy, disrupted, now)
		next = expiry
	}
	if !apiequality.Semantic.DeepEqual(status, pdb.Status) {
		out := pdb.DeepCopy()
		out.Status = status
		if _, err := c.client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update status of poddisruptionbudget %s: %w", key, err)
		}
	}
	if !next.IsZero() {
		// A disrupted pod that was not deleted counts again once its entry
		// expires: look then.
		return controller.Requeue{After: next.Sub(now)}
	}
	return nil
}

// expectedScale sums the scale of the distinct controllers of pods. A
// pod without a known controller is an error: a percentage of nothing
// cannot be resolved.
func (c *Controller) expectedScale(pods []*corev1.Pod) (int32, error) {
	seen := map[types.UID]bool{}
	var total int32
	for _, pod := range pods {
		ref := metav1.GetControllerOf(pod)
		if ref == nil {
			return 0, fmt.Errorf("found no controller ref for pod %q", pod.Name)
		}
		uid, scale, err := c.scaleOf(pod.Namespace, ref)
		if err != nil {
			return 0, err
		}
		if !seen[uid] {
			seen[uid] = true
			total += scale
		}
	}
	return total, nil
}

// scaleOf returns the UID and desired replicas of the workload that owns
// a pod through ref: a Deployment for its ReplicaSets, else the
// ReplicaSet, ReplicationController or StatefulSet itself.
func (c *Controller) scaleOf(ns string, ref *metav1.OwnerReference) (types.UID, int32, error) {
	notFound := fmt.Errorf("found no controllers for pod's owner %s %q", ref.Kind, ref.Name)
	switch ref.Kind {
	case "ReplicaSet":
		rs, err := c.rs.ReplicaSets(ns).Get(ref.Name)
		if err != nil || rs.UID != ref.UID {
			return "", 0, notFound
		}
		if owner := metav1.GetControllerOf(rs); owner != nil && owner.Kind == "Deployment" {
			d, err := c.deploys.Deployments(ns).Get(owner.Name)
			if err == nil && d.UID == owner.UID {
				return d.UID, replicas(d.Spec.Replicas), nil
			}
		}
		return rs.UID, replicas(rs.Spec.Replicas), nil
	case "ReplicationController":
		rc, err := c.rcs.ReplicationControllers(ns).Get(ref.Name)
		if err != nil || rc.UID != ref.UID {
			return "", 0, notFound
		}
		return rc.UID, replicas(rc.Spec.Replicas), nil
	case "StatefulSet":
		ss, err := c.sets.StatefulSets(ns).Get(ref.Name)
		if err != nil || ss.UID != ref.UID {
			return "", 0, notFound
		}
		return ss.UID, replicas(ss.Spec.Replicas), nil
	}
	return "", 0, notFound
}

// replicas is a spec.replicas value, which defaults to 1.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}
