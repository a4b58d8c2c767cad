// Package garbagecollector deletes objects whose owners are gone and
// carries out orphan and foreground deletion, following ownerReferences
// across every resource.
package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

const (
	indexOwner = "owner"
	indexUID   = "uid"
	// foregroundPoll is how often an owner deleted in the foreground
	// checks whether its dependents are gone.
	foregroundPoll = 500 * time.Millisecond
)

// Resource is one resource the collector watches.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
}

// Collector is the garbage collector.
type Collector struct {
	client metadata.Interface
	loop   *controller.Loop
	// dynamic lists the resources that come and go (custom resources);
	// nil for none.
	dynamic func() []Resource

	// mu guards the maps, which change as dynamic resources come and go.
	mu        sync.RWMutex
	resources map[schema.GroupVersionResource]Resource
	byKind    map[schema.GroupVersionKind]Resource
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
	// stops ends the informers of dynamic resources.
	stops map[schema.GroupVersionResource]context.CancelFunc
}

// New sets up informers on factory for every resource; dynamic, if not
// nil, is asked every dynamicResync for resources that come and go (custom
// resources), which get informers of their own.
func New(client metadata.Interface, factory metadatainformer.SharedInformerFactory, resources []Resource,
	dynamic func() []Resource) (*Collector, error) {
	c := &Collector{
		client:    client,
		dynamic:   dynamic,
		resources: map[schema.GroupVersionResource]Resource{},
		byKind:    map[schema.GroupVersionKind]Resource{},
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		stops:     map[schema.GroupVersionResource]context.CancelFunc{},
	}
	c.loop = controller.New("garbage-collector", 4, c.sync)
	for _, r := range resources {
		if err := c.add(r, factory.ForResource(r.GVR).Informer()); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// add starts tracking one resource through inf.
func (c *Collector) add(r Resource, inf cache.SharedIndexInformer) error {
	if err := inf.SetTransform(slim); err != nil {
		return err
	}
	if err := inf.AddIndexers(cache.Indexers{indexOwner: ownerIndex, indexUID: uidIndex}); err != nil {
		return err
	}
	gvr := r.GVR
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueue(gvr, obj) },
		UpdateFunc: func(_, obj any) { c.enqueue(gvr, obj) },
		DeleteFunc: func(obj any) { c.ownerGone(obj) },
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resources[r.GVR] = r
	c.byKind[r.GVR.GroupVersion().WithKind(r.Kind)] = r
	c.informers[r.GVR] = inf
	return nil
}

// Run runs the collector until ctx ends.
func (c *Collector) Run(ctx context.Context) error {
	c.mu.RLock()
	synced := make([]cache.InformerSynced, 0, len(c.informers))
	for _, inf := range c.informers {
		synced = append(synced, inf.HasSynced)
	}
	c.mu.RUnlock()
	if c.dynamic != nil {
		go c.followDynamic(ctx)
	}
	return c.loop.Run(ctx, synced...)
}

// dynamicResync is how often the dynamic resources are compared with the
// ones tracked.
const dynamicResync = time.Second

// followDynamic keeps an informer on each dynamic resource, and stops the
// ones of resources that went away, until ctx ends.
func (c *Collector) followDynamic(ctx context.Context) {
	ticker := time.NewTicker(dynamicResync)
	defer ticker.Stop()
	for {
		want := map[schema.GroupVersionResource]Resource{}
		for _, r := range c.dynamic() {
			want[r.GVR] = r
		}
		c.mu.RLock()
		var gone []schema.GroupVersionResource
		for gvr := range c.stops {
			if _, ok := want[gvr]; !ok {
				gone = append(gone, gvr)
			}
		}
		var added []Resource
		for gvr, r := range want {
			if _, ok := c.informers[gvr]; !ok {
				added = append(added, r)
			}
		}
		c.mu.RUnlock()
		for _, gvr := range gone {
			c.remove(gvr)
		}
		for _, r := range added {
			c.start(ctx, r)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// start tracks a dynamic resource with an informer of its own.
func (c *Collector) start(ctx context.Context, r Resource) {
	inf := metadatainformer.NewFilteredMetadataInformer(c.client, r.GVR, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	if err := c.add(r, inf); err != nil {
		return
	}
	infCtx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.stops[r.GVR] = cancel
	c.mu.Unlock()
	go inf.RunWithContext(infCtx)
}

// remove stops tracking a dynamic resource.
func (c *Collector) remove(gvr schema.GroupVersionResource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stop, ok := c.stops[gvr]; ok {
		stop()
	}
	r := c.resources[gvr]
	delete(c.byKind, r.GVR.GroupVersion().WithKind(r.Kind))
	delete(c.resources, gvr)
	delete(c.informers, gvr)
	delete(c.stops, gvr)
}

// slim keeps only what the collector reads: it holds every object of the
// cluster, so labels, annotations and managedFields would dominate memory.
func slim(obj any) (any, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		m.ManagedFields, m.Annotations, m.Labels = nil, nil, nil
	}
	return obj, nil
}

func ownerIndex(obj any) ([]string, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return nil, nil
	}
	uids := make([]string, 0, len(m.OwnerReferences))
	for _, ref := range m.OwnerReferences {
		uids = append(uids, string(ref.UID))
	}
	return uids, nil
}

func uidIndex(obj any) ([]string, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		return []string{string(m.UID)}, nil
	}
	return nil, nil
}

// key is "group/version/resource|namespace/name".
func key(gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) string {
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "|" + m.Namespace + "/" + m.Name
}

func parseKey(k string) (schema.GroupVersionResource, string, string, error) {
	gvrPart, objPart, ok := strings.Cut(k, "|")
	parts := strings.Split(gvrPart, "/")
	ns, name, ok2 := strings.Cut(objPart, "/")
	if !ok || !ok2 || len(parts) != 3 {
		return schema.GroupVersionResource{}, "", "", fmt.Errorf("bad key %q", k)
	}
	return schema.GroupVersionResource{Group: parts[0], Version: parts[1], Resource: parts[2]}, ns, name, nil
}

func (c *Collector) enqueue(gvr schema.GroupVersionResource, obj any) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return
	}
	// Only objects that own or are owned, or are being deleted with a
	// finalizer the collector handles, need work.
	if len(m.OwnerReferences) > 0 || hasGCFinalizer(m) {
		c.loop.Enqueue(key(gvr, m))
	}
}

// ownerGone enqueues the dependents of a deleted object.
func (c *Collector) ownerGone(obj any) {
	m, ok := controller.As[*metav1.PartialObjectMetadata](obj)
	if !ok {
		return
	}
	for _, dep := range c.dependents(m.UID) {
		c.loop.Enqueue(key(dep.gvr, dep.obj))
	}
}

func hasGCFinalizer(m *metav1.PartialObjectMetadata) bool {
	return m.DeletionTimestamp != nil &&
		(slices.Contains(m.Finalizers, metav1.FinalizerOrphanDependents) || slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents))
}

// object is a cached object and its resource.
type object struct {
	gvr schema.GroupVersionResource
	obj *metav1.PartialObjectMetadata
}

// dependents returns the cached objects that name uid as an owner.
func (c *Collector) dependents(uid types.UID) []object {
	var out []object
	c.mu.RLock()
	defer c.mu.RUnlock()
	for gvr, inf := range c.informers {
		objs, _ := inf.GetIndexer().ByIndex(indexOwner, string(uid))
		for _, o := range objs {
			if m, ok := o.(*metav1.PartialObjectMetadata); ok {
				out = append(out, object{gvr: gvr, obj: m})
			}
		}
	}
	return out
}

func (c *Collector) sync(ctx context.Context, k string) error {
	gvr, ns, name, err := parseKey(k)
	if err != nil {
		return nil //nolint:nilerr // a malformed key never becomes valid
	}
	c.mu.RLock()
	inf, ok := c.informers[gvr]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	cacheKey := name
	if ns != "" {
		cacheKey = ns + "/" + name
	}
	obj, exists, err := inf.GetStore().GetByKey(cacheKey)
	if err != nil || !exists {
		return err
	}
	m := obj.(*metav1.PartialObjectMetadata)
	if m.DeletionTimestamp != nil {
		switch {
		case slices.Contains(m.Finalizers, metav1.FinalizerOrphanDependents):
			return c.orphan(ctx, gvr, m)
		case slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents):
			return c.foreground(ctx, gvr, m)
		}
		return nil
	}
	return c.collectIfOrphaned(ctx, gvr, m)
}

// orphan removes the object from its dependents' owners, then drops the
// orphan finalizer.
func (c *Collector) orphan(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) error {
	for _, dep := range c.dependents(m.UID) {
		if err := c.removeOwners(ctx, dep.gvr, dep.obj, map[types.UID]bool{m.UID: true}); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, gvr, m, metav1.FinalizerOrphanDependents)
}

// foreground deletes the dependents first and drops the finalizer once
// none is left.
func (c *Collector) foreground(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) error {
	deps := c.dependents(m.UID)
	if len(deps) == 0 {
		return c.removeFinalizer(ctx, gvr, m, metav1.FinalizerDeleteDependents)
	}
	policy := metav1.DeletePropagationForeground
	for _, d := range deps {
		dep := d.obj
		if dep.DeletionTimestamp != nil {
			continue
		}
		err := c.resource(d.gvr, dep.Namespace).Delete(ctx, dep.Name, metav1.DeleteOptions{
			PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &dep.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
	}
	return controller.Requeue{After: foregroundPoll}
}

// resource is the metadata client of gvr in namespace.
func (c *Collector) resource(gvr schema.GroupVersionResource, namespace string) metadata.ResourceInterface {
	c.mu.RLock()
	namespaced := c.resources[gvr].Namespaced
	c.mu.RUnlock()
	if namespaced {
		return c.client.Resource(gvr).Namespace(namespace)
	}
	return c.client.Resource(gvr)
}

// ownerState tells whether an owner reference points at a live object.
type ownerState int

const (
	ownerAlive ownerState = iota
	ownerAbsent
	ownerDeletingForeground
)

// owner looks an owner up in the caches, and on a miss asks the API
// server, since the cache may simply not have seen it yet.
func (c *Collector) owner(ctx context.Context, ref metav1.OwnerReference, namespace string) (ownerState, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ownerAbsent, nil //nolint:nilerr // an unparsable owner can never exist
	}
	c.mu.RLock()
	r, ok := c.byKind[gv.WithKind(ref.Kind)]
	inf := c.informers[r.GVR]
	c.mu.RUnlock()
	if !ok {
		return ownerAlive, nil // a kind we do not know: never collect on its account
	}
	state := func(m *metav1.PartialObjectMetadata) ownerState {
		if m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, metav1.FinalizerDeleteDependents) {
			return ownerDeletingForeground
		}
		return ownerAlive
	}
	if objs, _ := inf.GetIndexer().ByIndex(indexUID, string(ref.UID)); len(objs) > 0 {
		return state(objs[0].(*metav1.PartialObjectMetadata)), nil
	}
	live, err := c.resource(r.GVR, namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return ownerAbsent, nil
	case err != nil:
		return ownerAlive, err
	case live.UID != ref.UID:
		return ownerAbsent, nil
	}
	return state(live), nil
}

// collectIfOrphaned deletes an object all of whose owners are gone, and
// drops references to owners that are gone when others remain.
func (c *Collector) collectIfOrphaned(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) error {
	if len(m.OwnerReferences) == 0 {
		return nil
	}
	dangling := map[types.UID]bool{}
	alive := 0
	for _, ref := range m.OwnerReferences {
		st, err := c.owner(ctx, ref, m.Namespace)
		if err != nil {
			return err
		}
		switch st {
		case ownerAbsent:
			dangling[ref.UID] = true
		default:
			alive++
		}
	}
	if alive > 0 {
		if len(dangling) == 0 {
			return nil
		}
		return c.removeOwners(ctx, gvr, m, dangling)
	}
	policy := metav1.DeletePropagationBackground
	err := c.resource(gvr, m.Namespace).Delete(ctx, m.Name, metav1.DeleteOptions{
		PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &m.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// removeOwners drops the given owners from an object's ownerReferences.
func (c *Collector) removeOwners(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata, owners map[types.UID]bool) error {
	refs := slices.DeleteFunc(slices.Clone(m.OwnerReferences), func(r metav1.OwnerReference) bool { return owners[r.UID] })
	return c.patchMetadata(ctx, gvr, m, map[string]any{"ownerReferences": refs})
}

// removeFinalizer drops one finalizer, conditional on the version seen.
func (c *Collector) removeFinalizer(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata, finalizer string) error {
	finalizers := slices.DeleteFunc(slices.Clone(m.Finalizers), func(f string) bool { return f == finalizer })
	return c.patchMetadata(ctx, gvr, m, map[string]any{"finalizers": finalizers, "resourceVersion": m.ResourceVersion})
}

// patchMetadata merge-patches metadata fields, guarded by the object's UID.
func (c *Collector) patchMetadata(ctx context.Context, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata, fields map[string]any) error {
	fields["uid"] = m.UID
	data, err := json.Marshal(map[string]any{"metadata": fields})
	if err != nil {
		return err
	}
	_, err = c.resource(gvr, m.Namespace).Patch(ctx, m.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
