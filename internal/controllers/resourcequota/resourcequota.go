// Package resourcequota is the resource quota controller: it keeps every
// ResourceQuota's status.hard equal to spec.hard and status.used equal to
// what the quota's namespace holds, recomputed when a quota changes, when
// objects it counts go away or change their usage, and on a periodic full
// resync. The ResourceQuota admission plugin charges new objects; this
// controller gives back what is no longer used.
package resourcequota

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/quota"
)

// DefaultResyncPeriod is how often every quota is recomputed even without
// a change, as kube-controller-manager does: it returns charges for
// writes that failed after admission and pods whose grace period ran out.
const DefaultResyncPeriod = 5 * time.Minute

// recheckDelay is how long after someone else (admission) changes a
// quota's usage the controller recomputes it: long enough for the object
// admitted to be stored and reach the caches, so the recount does not
// briefly undercount it.
const recheckDelay = 10 * time.Second

// Config is what the controller needs.
type Config struct {
	// Client writes quota status.
	Client kubernetes.Interface
	// Quotas, Pods, Services and Claims are shared informers; the
	// controller adds handlers, so build it before they start.
	Quotas   coreinformers.ResourceQuotaInformer
	Pods     coreinformers.PodInformer
	Services coreinformers.ServiceInformer
	Claims   coreinformers.PersistentVolumeClaimInformer
	// Metadata and Counted give the object counts (count/<resource>) of
	// every other namespaced resource: the factory's informer for each
	// GVR of Counted (one version per group resource is used).
	Metadata metadatainformer.SharedInformerFactory
	Counted  []schema.GroupVersionResource
	// Clock decides whether deleted pods still count. Default real.
	Clock clock.PassiveClock
	// ResyncPeriod is the full recompute period. Default
	// DefaultResyncPeriod.
	ResyncPeriod time.Duration
}

// Controller keeps ResourceQuota status current.
type Controller struct {
	client   kubernetes.Interface
	quotas   corelisters.ResourceQuotaLister
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	claims   corelisters.PersistentVolumeClaimLister
	counted  map[schema.GroupResource]cache.GenericLister
	synced   []cache.InformerSynced
	clock    clock.PassiveClock
	resync   time.Duration
	loop     *controller.Loop
	// delayed holds quota keys to recompute after recheckDelay.
	delayed workqueue.TypedDelayingInterface[string]
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:   cfg.Client,
		quotas:   cfg.Quotas.Lister(),
		pods:     cfg.Pods.Lister(),
		services: cfg.Services.Lister(),
		claims:   cfg.Claims.Lister(),
		counted:  map[schema.GroupResource]cache.GenericLister{},
		clock:    cfg.Clock,
		resync:   cfg.ResyncPeriod,
		delayed:  workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Name: "resourcequota-recheck"}),
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.resync <= 0 {
		c.resync = DefaultResyncPeriod
	}
	c.loop = controller.New("resourcequota", 2, c.sync)
	if _, err := cfg.Quotas.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: c.quotaUpdated,
	}); err != nil {
		return nil, fmt.Errorf("watch resource quotas: %w", err)
	}
	c.synced = append(c.synced, cfg.Quotas.Informer().HasSynced)
	typed := []struct {
		gr       schema.GroupResource
		informer cache.SharedIndexInformer
	}{
		{quota.Pods, cfg.Pods.Informer()},
		{quota.Services, cfg.Services.Informer()},
		{quota.PersistentVolumeClaims, cfg.Claims.Informer()},
	}
	for _, t := range typed {
		if _, err := t.informer.AddEventHandler(c.replenish(t.gr)); err != nil {
			return nil, fmt.Errorf("watch %s: %w", t.gr, err)
		}
		c.synced = append(c.synced, t.informer.HasSynced)
	}
	for _, gvr := range cfg.Counted {
		gr := gvr.GroupResource()
		if gr == quota.Pods || gr == quota.Services || gr == quota.PersistentVolumeClaims || c.counted[gr] != nil {
			continue
		}
		informer := cfg.Metadata.ForResource(gvr)
		if _, err := informer.Informer().AddEventHandler(c.replenish(gr)); err != nil {
			return nil, fmt.Errorf("watch %s: %w", gr, err)
		}
		c.counted[gr] = informer.Lister()
		c.synced = append(c.synced, informer.Informer().HasSynced)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			key, quit := c.delayed.Get()
			if quit {
				return
			}
			c.loop.Enqueue(key)
			c.delayed.Done(key)
		}
	})
	wg.Go(func() {
		// The first full pass is the informers' initial adds.
		wait.JitterUntilWithContext(ctx, c.enqueueAll, c.resync, 0, false)
	})
	err := c.loop.Run(ctx, c.synced...)
	c.delayed.ShutDown()
	wg.Wait()
	return err
}

func (c *Controller) enqueueAll(context.Context) {
	all, err := c.quotas.List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range all {
		c.loop.EnqueueObject(q)
	}
}

// quotaUpdated recomputes a quota whose spec changed or whose status.hard
// was set to something else; a change of status.used alone comes from
// admission charging it, so the recount waits for the charged object.
func (c *Controller) quotaUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.ResourceQuota)
	q, ok2 := newObj.(*corev1.ResourceQuota)
	if !ok1 || !ok2 {
		return
	}
	key, err := cache.MetaNamespaceKeyFunc(q)
	if err != nil {
		return
	}
	switch {
	case old.ResourceVersion == q.ResourceVersion:
		// The informer's own resync: the periodic pass covers it.
	case !quota.Equal(q.Spec.Hard, q.Status.Hard) || !quota.Equal(old.Spec.Hard, q.Spec.Hard) ||
		!equalScopes(&old.Spec, &q.Spec):
		c.loop.Enqueue(key)
	case !quota.Equal(old.Status.Used, q.Status.Used):
		c.delayed.AddAfter(key, recheckDelay)
	}
}

func equalScopes(a, b *corev1.ResourceQuotaSpec) bool {
	sa, sb := quota.Selectors(a), quota.Selectors(b)
	if len(sa) != len(sb) {
		return false
	}
	for i := range sa {
		if sa[i].ScopeName != sb[i].ScopeName || sa[i].Operator != sb[i].Operator || fmt.Sprint(sa[i].Values) != fmt.Sprint(sb[i].Values) {
			return false
		}
	}
	return true
}

// replenish returns handlers that recompute the quotas of an object's
// namespace that count objects of gr, when one is deleted or an update
// changes what it uses. Adds are left to admission, which charged them
// already: recounting then, from caches that may not yet hold objects
// admitted just before, would undercount.
func (c *Controller) replenish(gr schema.GroupResource) cache.ResourceEventHandlerFuncs {
	// covering returns the quotas of obj's namespace that count gr: most
	// namespaces have none, and then an event costs one index lookup.
	covering := func(obj any) []*corev1.ResourceQuota {
		accessor, ok := controller.As[metav1.Object](obj)
		if !ok {
			return nil
		}
		quotas, err := c.quotas.ResourceQuotas(accessor.GetNamespace()).List(labels.Everything())
		if err != nil {
			return nil
		}
		var out []*corev1.ResourceQuota
		for _, q := range quotas {
			for name := range q.Spec.Hard {
				if r, ok := quota.ResourceOf(name); ok && r == gr {
					out = append(out, q)
					break
				}
			}
		}
		return out
	}
	enqueue := func(quotas []*corev1.ResourceQuota) {
		for _, q := range quotas {
			c.loop.EnqueueObject(q)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			quotas := covering(newObj)
			if len(quotas) == 0 {
				return
			}
			o, ok1 := oldObj.(runtime.Object)
			n, ok2 := newObj.(runtime.Object)
			if !ok1 || !ok2 {
				return
			}
			now := c.clock.Now()
			if !quota.Equal(quota.Usage(gr, o, now), quota.Usage(gr, n, now)) || scopeChanged(o, n) {
				enqueue(quotas)
			}
		},
		DeleteFunc: func(obj any) { enqueue(covering(obj)) },
	}
}

// scopeChanged reports whether a pod moved between scopes a quota may
// select (best effort and terminating do not change, a phase does; the
// usage check covers that).
func scopeChanged(o, n runtime.Object) bool {
	op, ok1 := o.(*corev1.Pod)
	np, ok2 := n.(*corev1.Pod)
	if !ok1 || !ok2 {
		return false
	}
	return op.Spec.PriorityClassName != np.Spec.PriorityClassName ||
		(op.Spec.ActiveDeadlineSeconds == nil) != (np.Spec.ActiveDeadlineSeconds == nil)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	used, err := c.usage(q)
	if err != nil {
		return err
	}
	if quota.Equal(q.Status.Hard, q.Spec.Hard) && quota.Equal(q.Status.Used, used) {
		return nil
	}
	q = q.DeepCopy()
	q.Status.Hard = quota.Add(corev1.ResourceList{}, q.Spec.Hard)
	q.Status.Used = used
	// The cached resourceVersion guards the write: a quota admission
	// charged since is recounted on the retry.
	if _, err := c.client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of resource quota %s: %w", key, err)
	}
	klog.FromContext(ctx).V(4).Info("Updated resource quota usage", "resourceQuota", klog.KObj(q), "used", quota.Format(used))
	return nil
}

// usage computes status.used for q: every resource of spec.hard that
// objects are charged for, from the caches. Resources nothing here counts
// (unknown names, custom resources) keep the value they had, which
// admission charged.
func (c *Controller) usage(q *corev1.ResourceQuota) (corev1.ResourceList, error) {
	scopes := quota.Selectors(&q.Spec)
	used := corev1.ResourceList{}
	byResource := map[schema.GroupResource][]corev1.ResourceName{}
	for _, name := range quota.Names(q.Spec.Hard) {
		gr, ok := quota.ResourceOf(name)
		if !ok || !c.serves(gr) {
			if v, had := q.Status.Used[name]; had {
				used[name] = v.DeepCopy()
			} else if ok {
				// Known to admission: a missing value would refuse every write.
				used[name] = *resource.NewQuantity(0, resource.DecimalSI)
			}
			continue
		}
		used[name] = *resource.NewQuantity(0, resource.DecimalSI)
		byResource[gr] = append(byResource[gr], name)
	}
	now := c.clock.Now()
	for gr, names := range byResource {
		total, err := c.total(q.Namespace, gr, scopes, now)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if v, ok := total[name]; ok {
				used[name] = v
			}
		}
	}
	return used, nil
}

var resourceQuotas = schema.GroupResource{Resource: "resourcequotas"}

// serves reports whether the controller can count objects of gr.
func (c *Controller) serves(gr schema.GroupResource) bool {
	switch gr {
	case quota.Pods, quota.Services, quota.PersistentVolumeClaims, resourceQuotas:
		return true
	}
	return c.counted[gr] != nil
}

// total sums what the objects of gr in ns that the scopes select use.
func (c *Controller) total(ns string, gr schema.GroupResource, scopes []corev1.ScopedResourceSelectorRequirement, now time.Time) (corev1.ResourceList, error) {
	var objs []runtime.Object
	var err error
	switch gr {
	case quota.Pods:
		objs, err = asObjects(c.pods.Pods(ns).List(labels.Everything()))
	case quota.Services:
		objs, err = asObjects(c.services.Services(ns).List(labels.Everything()))
	case quota.PersistentVolumeClaims:
		objs, err = asObjects(c.claims.PersistentVolumeClaims(ns).List(labels.Everything()))
	default:
		if len(scopes) > 0 {
			return corev1.ResourceList{}, nil // scopes select only pods
		}
		var count int
		if gr == resourceQuotas {
			// From the informer that announced the quota, so that a new
			// quota counts itself on its first sync.
			all, err := c.quotas.ResourceQuotas(ns).List(labels.Everything())
			if err != nil {
				return nil, err
			}
			count = len(all)
		} else {
			all, err := c.counted[gr].ByNamespace(ns).List(labels.Everything())
			if err != nil {
				return nil, err
			}
			count = len(all)
		}
		n := *resource.NewQuantity(int64(count), resource.DecimalSI)
		out := corev1.ResourceList{quota.CountName(gr): n}
		for name := range quota.CountUsage(gr) {
			out[name] = n.DeepCopy()
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	total := corev1.ResourceList{}
	for _, obj := range objs {
		if quota.Matches(scopes, gr, obj) {
			total = quota.Add(total, quota.Usage(gr, obj, now))
		}
	}
	return total, nil
}

// asObjects passes on what a typed lister returned, as runtime.Objects.
func asObjects[T runtime.Object](items []T, err error) ([]runtime.Object, error) {
	objs := make([]runtime.Object, len(items))
	for i, item := range items {
		objs[i] = item
	}
	return objs, err
}
