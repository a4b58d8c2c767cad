package server

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// sharedKinds are the resources whose in-process informers read the API
// server's registry, and so its watch cache, directly: the objects the
// controllers and the scheduler hold are then the cache's own, one copy
// in memory instead of one per informer, and no list or event is encoded,
// sent over the loopback connection and decoded again. Writes still go
// through the API, with admission, validation and authorization.
var sharedKinds = map[reflect.Type]schema.GroupVersionResource{
	reflect.TypeFor[*corev1.Pod]():                   corev1.SchemeGroupVersion.WithResource("pods"),
	reflect.TypeFor[*corev1.Node]():                  corev1.SchemeGroupVersion.WithResource("nodes"),
	reflect.TypeFor[*corev1.Namespace]():             corev1.SchemeGroupVersion.WithResource("namespaces"),
	reflect.TypeFor[*corev1.Service]():               corev1.SchemeGroupVersion.WithResource("services"),
	reflect.TypeFor[*corev1.ConfigMap]():             corev1.SchemeGroupVersion.WithResource("configmaps"),
	reflect.TypeFor[*corev1.ServiceAccount]():        corev1.SchemeGroupVersion.WithResource("serviceaccounts"),
	reflect.TypeFor[*corev1.PersistentVolumeClaim](): corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"),
	reflect.TypeFor[*corev1.PersistentVolume]():      corev1.SchemeGroupVersion.WithResource("persistentvolumes"),
	reflect.TypeFor[*corev1.ReplicationController](): corev1.SchemeGroupVersion.WithResource("replicationcontrollers"),
	reflect.TypeFor[*appsv1.ReplicaSet]():            appsv1.SchemeGroupVersion.WithResource("replicasets"),
	reflect.TypeFor[*appsv1.Deployment]():            appsv1.SchemeGroupVersion.WithResource("deployments"),
	reflect.TypeFor[*appsv1.StatefulSet]():           appsv1.SchemeGroupVersion.WithResource("statefulsets"),
	reflect.TypeFor[*appsv1.DaemonSet]():             appsv1.SchemeGroupVersion.WithResource("daemonsets"),
	reflect.TypeFor[*appsv1.ControllerRevision]():    appsv1.SchemeGroupVersion.WithResource("controllerrevisions"),
	reflect.TypeFor[*batchv1.Job]():                  batchv1.SchemeGroupVersion.WithResource("jobs"),
	reflect.TypeFor[*batchv1.CronJob]():              batchv1.SchemeGroupVersion.WithResource("cronjobs"),
	reflect.TypeFor[*discoveryv1.EndpointSlice]():    discoveryv1.SchemeGroupVersion.WithResource("endpointslices"),
	reflect.TypeFor[*coordinationv1.Lease]():         coordinationv1.SchemeGroupVersion.WithResource("leases"),
	reflect.TypeFor[*policyv1.PodDisruptionBudget](): policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets"),
	reflect.TypeFor[*storagev1.StorageClass]():       storagev1.SchemeGroupVersion.WithResource("storageclasses"),
	reflect.TypeFor[*storagev1.CSINode]():            storagev1.SchemeGroupVersion.WithResource("csinodes"),
	reflect.TypeFor[*storagev1.CSIDriver]():          storagev1.SchemeGroupVersion.WithResource("csidrivers"),
	reflect.TypeFor[*storagev1.VolumeAttachment]():   storagev1.SchemeGroupVersion.WithResource("volumeattachments"),
	reflect.TypeFor[*corev1.Endpoints]():             corev1.SchemeGroupVersion.WithResource("endpoints"), //nolint:staticcheck // the Endpoints controller still serves them
	reflect.TypeFor[*corev1.Secret]():                corev1.SchemeGroupVersion.WithResource("secrets"),
	reflect.TypeFor[*corev1.LimitRange]():            corev1.SchemeGroupVersion.WithResource("limitranges"),
	reflect.TypeFor[*corev1.ResourceQuota]():         corev1.SchemeGroupVersion.WithResource("resourcequotas"),
	reflect.TypeFor[*storagev1.CSIStorageCapacity](): storagev1.SchemeGroupVersion.WithResource("csistoragecapacities"),
	reflect.TypeFor[*corev1.PodTemplate]():           corev1.SchemeGroupVersion.WithResource("podtemplates"),
}

// newSharedInformerFactory returns an informer factory whose informers
// for sharedKinds list and watch stores directly; other kinds go through
// client. Informers of the other kinds drop managedFields, which no
// controller reads; the shared ones must not, as their objects belong to
// the watch cache and are read-only for everyone (client-go's rule for
// informer objects, which KUBE_CACHE_MUTATION_DETECTOR checks in tests).
func newSharedInformerFactory(client kubernetes.Interface, stores map[schema.GroupVersionResource]*registry.Store, resync time.Duration) informers.SharedInformerFactory {
	shared := map[reflect.Type]*registry.Store{}
	for typ, gvr := range sharedKinds {
		if store := stores[gvr]; store != nil {
			shared[typ] = store
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, resync, informers.WithTransform(func(obj any) (any, error) {
		if _, ok := shared[reflect.TypeOf(obj)]; ok {
			return obj, nil
		}
		return dropManagedFields(obj)
	}))
	for typ, store := range shared {
		example, ok := reflect.New(typ.Elem()).Interface().(runtime.Object)
		if !ok {
			continue
		}
		factory.InformerFor(example, func(_ kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
			return cache.NewSharedIndexInformer(&storeListerWatcher{store: store}, example, resync,
				cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		})
	}
	return factory
}

// storeListerWatcher lists and watches a registry store in process, as
// the store's objects or, with metadataOnly, as PartialObjectMetadata.
type storeListerWatcher struct {
	store        *registry.Store
	metadataOnly bool
}

var _ cache.ListerWatcherWithContext = &storeListerWatcher{}

// ListWithContext lists everything at once: there is no response to page.
func (lw *storeListerWatcher) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	opts.Limit, opts.Continue = 0, ""
	list, err := lw.store.List(ctx, metav1.NamespaceAll, &opts)
	if err != nil || !lw.metadataOnly {
		return list, err
	}
	return partialMetadataList(list)
}

// WatchWithContext watches from the listed resourceVersion until ctx ends
// or the cache ends the watch (a slow consumer), when the reflector
// watches again.
func (lw *storeListerWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := lw.store.Watch(ctx, metav1.NamespaceAll, &opts)
	if err != nil || !lw.metadataOnly {
		return w, err
	}
	return watch.Filter(w, func(ev watch.Event) (watch.Event, bool) {
		if ev.Type == watch.Error {
			return ev, true
		}
		m, err := partialMetadata(ev.Object)
		if err != nil {
			return watch.Event{Type: watch.Error, Object: &apierrors.NewInternalError(err).ErrStatus}, true
		}
		ev.Object = m
		return ev, true
	}), nil
}

// IsWatchListSemanticsUnSupported tells the reflector to list, then watch:
// the initial-events stream of a watch list is the HTTP handler's.
func (lw *storeListerWatcher) IsWatchListSemanticsUnSupported() bool { return true }

// List and Watch complete cache.ListerWatcher for callers without a
// context.
func (lw *storeListerWatcher) List(opts metav1.ListOptions) (runtime.Object, error) {
	return lw.ListWithContext(context.Background(), opts)
}

// Watch implements cache.ListerWatcher.
func (lw *storeListerWatcher) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return lw.WatchWithContext(context.Background(), opts)
}

// storeMetadataFactory is a metadata informer factory whose informers of
// resources with a store list and watch it directly, each object's
// metadata copied out of the watch cache's object into a
// PartialObjectMetadata (its lists and maps still the cache's, read-only);
// other resources go through the metadata client. The garbage collector
// watches every resource so, and over the loopback connection each of
// its events was encoded and decoded once more.
type storeMetadataFactory struct {
	metadatainformer.SharedInformerFactory
	stores map[schema.GroupVersionResource]*registry.Store
	resync time.Duration

	mu        sync.Mutex
	informers map[schema.GroupVersionResource]informers.GenericInformer
	started   map[schema.GroupVersionResource]bool
	running   sync.WaitGroup
}

func newStoreMetadataFactory(client metadata.Interface, stores map[schema.GroupVersionResource]*registry.Store, resync time.Duration) *storeMetadataFactory {
	return &storeMetadataFactory{
		SharedInformerFactory: metadatainformer.NewSharedInformerFactory(client, resync),
		stores:                stores, resync: resync,
		informers: map[schema.GroupVersionResource]informers.GenericInformer{},
		started:   map[schema.GroupVersionResource]bool{},
	}
}

// ForResource implements metadatainformer.SharedInformerFactory.
func (f *storeMetadataFactory) ForResource(gvr schema.GroupVersionResource) informers.GenericInformer {
	store := f.stores[gvr]
	if store == nil {
		return f.SharedInformerFactory.ForResource(gvr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[gvr]; ok {
		return inf
	}
	inf := cache.NewSharedIndexInformer(&storeListerWatcher{store: store, metadataOnly: true}, &metav1.PartialObjectMetadata{}, f.resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	generic := &genericInformer{informer: inf, resource: gvr.GroupResource()}
	f.informers[gvr] = generic
	return generic
}

// Start implements metadatainformer.SharedInformerFactory.
func (f *storeMetadataFactory) Start(stop <-chan struct{}) {
	f.SharedInformerFactory.Start(stop)
	f.mu.Lock()
	defer f.mu.Unlock()
	for gvr, inf := range f.informers {
		if !f.started[gvr] {
			f.started[gvr] = true
			f.running.Go(func() { inf.Informer().Run(stop) })
		}
	}
}

// WaitForCacheSync implements metadatainformer.SharedInformerFactory.
func (f *storeMetadataFactory) WaitForCacheSync(stop <-chan struct{}) map[schema.GroupVersionResource]bool {
	synced := f.SharedInformerFactory.WaitForCacheSync(stop)
	f.mu.Lock()
	own := maps.Clone(f.informers)
	f.mu.Unlock()
	for gvr, inf := range own {
		synced[gvr] = cache.WaitForCacheSync(stop, inf.Informer().HasSynced)
	}
	return synced
}

// Shutdown implements metadatainformer.SharedInformerFactory; the stop
// channel given to Start must be closed, as for the factory it wraps.
func (f *storeMetadataFactory) Shutdown() {
	f.SharedInformerFactory.Shutdown()
	f.running.Wait()
}

type genericInformer struct {
	informer cache.SharedIndexInformer
	resource schema.GroupResource
}

func (g *genericInformer) Informer() cache.SharedIndexInformer { return g.informer }

func (g *genericInformer) Lister() cache.GenericLister {
	return cache.NewGenericLister(g.informer.GetIndexer(), g.resource)
}

// partialMetadataList copies the metadata of list's items into a
// PartialObjectMetadataList.
func partialMetadataList(list runtime.Object) (*metav1.PartialObjectMetadataList, error) {
	listMeta, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	out := &metav1.PartialObjectMetadataList{TypeMeta: partialListType}
	out.ResourceVersion = listMeta.GetResourceVersion()
	err = meta.EachListItem(list, func(obj runtime.Object) error {
		m, err := partialMetadata(obj)
		if err == nil {
			out.Items = append(out.Items, *m)
		}
		return err
	})
	return out, err
}

var (
	partialType     = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}
	partialListType = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"}
)

// partialMetadata copies obj's metadata, without managedFields, into a
// PartialObjectMetadata.
func partialMetadata(obj runtime.Object) (*metav1.PartialObjectMetadata, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	out := meta.AsPartialObjectMetadata(accessor)
	out.TypeMeta = partialType
	out.ManagedFields = nil
	return out, nil
}
