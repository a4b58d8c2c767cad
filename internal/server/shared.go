package server

import (
	"context"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
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

// storeListerWatcher lists and watches a registry store in process.
type storeListerWatcher struct{ store *registry.Store }

var _ cache.ListerWatcherWithContext = &storeListerWatcher{}

// ListWithContext lists everything at once: there is no response to page.
func (lw *storeListerWatcher) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	opts.Limit, opts.Continue = 0, ""
	return lw.store.List(ctx, metav1.NamespaceAll, &opts)
}

// WatchWithContext watches from the listed resourceVersion until ctx ends
// or the cache ends the watch (a slow consumer), when the reflector
// watches again.
func (lw *storeListerWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return lw.store.Watch(ctx, metav1.NamespaceAll, &opts)
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
