package server

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"

	"github.com/tugcluster/tug/internal/apiserver/customresources"
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/cronjob"
	"github.com/tugcluster/tug/internal/controllers/csrsigning"
	"github.com/tugcluster/tug/internal/controllers/daemonset"
	"github.com/tugcluster/tug/internal/controllers/deployment"
	"github.com/tugcluster/tug/internal/controllers/disruption"
	"github.com/tugcluster/tug/internal/controllers/endpoints"
	"github.com/tugcluster/tug/internal/controllers/endpointslice"
	"github.com/tugcluster/tug/internal/controllers/endpointslicemirroring"
	"github.com/tugcluster/tug/internal/controllers/garbagecollector"
	"github.com/tugcluster/tug/internal/controllers/job"
	"github.com/tugcluster/tug/internal/controllers/namespace"
	"github.com/tugcluster/tug/internal/controllers/nodeipam"
	"github.com/tugcluster/tug/internal/controllers/nodelifecycle"
	"github.com/tugcluster/tug/internal/controllers/replicaset"
	"github.com/tugcluster/tug/internal/controllers/resourcequota"
	"github.com/tugcluster/tug/internal/controllers/rootcacert"
	"github.com/tugcluster/tug/internal/controllers/serviceaccount"
	"github.com/tugcluster/tug/internal/controllers/servicelb"
	"github.com/tugcluster/tug/internal/controllers/statefulset"
	"github.com/tugcluster/tug/internal/controllers/ttlafterfinished"
)

// runControllers runs tug's controller manager while this server holds the
// controller-manager lease, until ctx ends (see runLeading): those that
// belong to the API server's contract (garbage collection, namespace
// deletion, each namespace's default service account and root CA
// ConfigMap), the node controllers (IPAM, lifecycle and taint eviction)
// and the workload controllers. They write through cfg, as any client
// would, and read the kinds of sharedKinds straight from stores.
// nodeGrace is how long a node may go without a heartbeat; clusterCIDR
// is the pod network node CIDRs come from.
func runControllers(ctx context.Context, cfg *rest.Config, stores map[schema.GroupVersionResource]*registry.Store, custom *customresources.Manager,
	caPEM []byte, sign csrsigning.SignFunc, catalog []resources.Resource, nodeGrace time.Duration, clusterCIDR, identity string, leading *prometheus.GaugeVec) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 2000
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Typed clients speak protobuf: cheaper to encode and decode on both
	// ends than JSON, for every object the controllers watch and write.
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Events have their own client so that they (one per pod created at
	// scale) do not eat into the controllers' request budget.
	eventClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	clients := controllerClients{typed: client, meta: meta, events: eventClient}
	return runLeading(ctx, client, controllersLease, identity, leading, func(ctx context.Context) error {
		return runControllersOnce(ctx, clients, stores, custom, caPEM, sign, catalog, nodeGrace, clusterCIDR)
	})
}

// controllerClients are the controller manager's clients.
type controllerClients struct {
	typed  kubernetes.Interface
	meta   metadata.Interface
	events kubernetes.Interface
}

// runControllersOnce builds every controller with fresh informers and runs
// them until ctx ends.
func runControllersOnce(ctx context.Context, clients controllerClients, stores map[schema.GroupVersionResource]*registry.Store, custom *customresources.Manager,
	caPEM []byte, sign csrsigning.SignFunc, catalog []resources.Resource, nodeGrace time.Duration, clusterCIDR string) error {
	client, meta := clients.typed, clients.meta
	var gcResources []garbagecollector.Resource
	var namespaced []schema.GroupVersionResource
	seen := map[schema.GroupVersionResource]bool{}
	for _, r := range catalog {
		if seen[r.GVR] || !hasVerbs(r.Verbs, "list", "watch", "delete") {
			continue
		}
		seen[r.GVR] = true
		gcResources = append(gcResources, garbagecollector.Resource{GVR: r.GVR, Kind: r.Kind, Namespaced: r.Namespaced})
		if r.Namespaced && hasVerbs(r.Verbs, "deletecollection") {
			namespaced = append(namespaced, r.GVR)
		}
	}
	typed := newSharedInformerFactory(client, stores, 10*time.Minute)
	metaFactory := newStoreMetadataFactory(meta, stores, 10*time.Minute)
	nsController, err := namespace.New(client, meta, typed.Core().V1().Namespaces(), func() []schema.GroupVersionResource {
		more := collectedCustomResources(custom)
		out := slices.Clip(namespaced)
		for _, r := range more {
			if r.Namespaced {
				out = append(out, r.GVR)
			}
		}
		return out
	})
	if err != nil {
		return err
	}
	gc, err := garbagecollector.New(meta, metaFactory, gcResources, func() []garbagecollector.Resource {
		return collectedCustomResources(custom)
	})
	if err != nil {
		return err
	}
	saController, err := serviceaccount.New(client, typed.Core().V1().Namespaces(), typed.Core().V1().ServiceAccounts())
	if err != nil {
		return err
	}
	caController, err := rootcacert.New(client, caPEM, typed.Core().V1().Namespaces(), typed.Core().V1().ConfigMaps())
	if err != nil {
		return err
	}
	csrController, err := csrsigning.New(client, typed.Certificates().V1().CertificateSigningRequests(), sign)
	if err != nil {
		return err
	}
	cidr, err := nodeipam.ParseClusterCIDR(clusterCIDR)
	if err != nil {
		return err
	}
	ipamController, err := nodeipam.New(client, typed.Core().V1().Nodes(), cidr)
	if err != nil {
		return err
	}
	lbController, err := servicelb.New(client, typed.Core().V1().Services(), typed.Core().V1().Nodes())
	if err != nil {
		return err
	}
	// One Event broadcaster for the controllers, each recording under its
	// own name.
	broadcaster := events.NewBroadcaster(controller.NewEventSink(clients.events))
	nodeController, err := nodelifecycle.New(nodelifecycle.Config{
		Client: client, Nodes: typed.Core().V1().Nodes(), Leases: typed.Coordination().V1().Leases(),
		Pods: typed.Core().V1().Pods(), GracePeriod: nodeGrace,
		Recorder: broadcaster.NewRecorder(scheme.Scheme, nodelifecycle.ReportingController),
	})
	if err != nil {
		return err
	}
	rsController, err := replicaset.NewReplicaSets(replicaset.Config{
		Client: client, Pods: typed.Core().V1().Pods(),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, replicaset.ReplicaSetReportingController),
	}, typed.Apps().V1().ReplicaSets())
	if err != nil {
		return err
	}
	rcController, err := replicaset.NewReplicationControllers(replicaset.Config{
		Client: client, Pods: typed.Core().V1().Pods(),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, replicaset.ReplicationControllerReportingController),
	}, typed.Core().V1().ReplicationControllers())
	if err != nil {
		return err
	}
	deploymentController, err := deployment.New(deployment.Config{
		Client: client, Deployments: typed.Apps().V1().Deployments(), ReplicaSets: typed.Apps().V1().ReplicaSets(),
		Pods: typed.Core().V1().Pods(), Recorder: broadcaster.NewRecorder(scheme.Scheme, deployment.ReportingController),
	})
	if err != nil {
		return err
	}
	jobController, err := job.New(job.Config{
		Client: client, Jobs: typed.Batch().V1().Jobs(), Pods: typed.Core().V1().Pods(),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, job.ReportingController),
	})
	if err != nil {
		return err
	}
	cronJobController, err := cronjob.New(cronjob.Config{
		Client: client, CronJobs: typed.Batch().V1().CronJobs(), Jobs: typed.Batch().V1().Jobs(),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, cronjob.ReportingController),
	})
	if err != nil {
		return err
	}
	statefulSetController, err := statefulset.New(statefulset.Config{
		Client: client, StatefulSets: typed.Apps().V1().StatefulSets(), Pods: typed.Core().V1().Pods(),
		PersistentVolumeClaims: typed.Core().V1().PersistentVolumeClaims(),
		ControllerRevisions:    typed.Apps().V1().ControllerRevisions(),
		Recorder:               broadcaster.NewRecorder(scheme.Scheme, statefulset.ReportingController),
	})
	if err != nil {
		return err
	}
	daemonSetController, err := daemonset.New(daemonset.Config{
		Client: client, DaemonSets: typed.Apps().V1().DaemonSets(), Nodes: typed.Core().V1().Nodes(),
		Pods: typed.Core().V1().Pods(), ControllerRevisions: typed.Apps().V1().ControllerRevisions(),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, daemonset.ReportingController),
	})
	if err != nil {
		return err
	}
	ttlController, err := ttlafterfinished.New(ttlafterfinished.Config{Client: client, Jobs: typed.Batch().V1().Jobs()})
	if err != nil {
		return err
	}
	endpointsController, err := endpoints.New(endpoints.Config{
		Client: client, Services: typed.Core().V1().Services(), Pods: typed.Core().V1().Pods(),
		Endpoints: typed.Core().V1().Endpoints(),
	})
	if err != nil {
		return err
	}
	sliceController, err := endpointslice.New(endpointslice.Config{
		Client: client, Services: typed.Core().V1().Services(), Pods: typed.Core().V1().Pods(),
		Nodes: typed.Core().V1().Nodes(), Slices: typed.Discovery().V1().EndpointSlices(),
	})
	if err != nil {
		return err
	}
	mirrorController, err := endpointslicemirroring.New(endpointslicemirroring.Config{
		Client: client, Services: typed.Core().V1().Services(), Endpoints: typed.Core().V1().Endpoints(),
		Slices: typed.Discovery().V1().EndpointSlices(),
	})
	if err != nil {
		return err
	}
	disruptionController, err := disruption.New(disruption.Config{
		Client: client, Budgets: typed.Policy().V1().PodDisruptionBudgets(), Pods: typed.Core().V1().Pods(),
		ReplicaSets: typed.Apps().V1().ReplicaSets(), Deployments: typed.Apps().V1().Deployments(),
		StatefulSets: typed.Apps().V1().StatefulSets(), ReplicationControllers: typed.Core().V1().ReplicationControllers(),
	})
	if err != nil {
		return err
	}
	quotaController, err := resourcequota.New(resourcequota.Config{
		Client: client, Quotas: typed.Core().V1().ResourceQuotas(), Pods: typed.Core().V1().Pods(),
		Services: typed.Core().V1().Services(), Claims: typed.Core().V1().PersistentVolumeClaims(),
		Metadata: metaFactory, Counted: namespaced,
	})
	if err != nil {
		return err
	}
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return err
	}
	defer broadcaster.Shutdown()
	g, gctx := errgroup.WithContext(ctx)
	typed.Start(gctx.Done())
	metaFactory.Start(gctx.Done())
	g.Go(func() error { return nsController.Run(gctx) })
	g.Go(func() error { return gc.Run(gctx) })
	g.Go(func() error { return saController.Run(gctx) })
	g.Go(func() error { return caController.Run(gctx) })
	g.Go(func() error { return csrController.Run(gctx) })
	g.Go(func() error { return nodeController.Run(gctx) })
	g.Go(func() error { return ipamController.Run(gctx) })
	g.Go(func() error { return lbController.Run(gctx) })
	g.Go(func() error { return rsController.Run(gctx) })
	g.Go(func() error { return rcController.Run(gctx) })
	g.Go(func() error { return deploymentController.Run(gctx) })
	g.Go(func() error { return jobController.Run(gctx) })
	g.Go(func() error { return cronJobController.Run(gctx) })
	g.Go(func() error { return ttlController.Run(gctx) })
	g.Go(func() error { return statefulSetController.Run(gctx) })
	g.Go(func() error { return daemonSetController.Run(gctx) })
	g.Go(func() error { return endpointsController.Run(gctx) })
	g.Go(func() error { return sliceController.Run(gctx) })
	g.Go(func() error { return mirrorController.Run(gctx) })
	g.Go(func() error { return disruptionController.Run(gctx) })
	g.Go(func() error { return quotaController.Run(gctx) })
	err = g.Wait()
	typed.Shutdown()
	metaFactory.Shutdown()
	return err
}

func hasVerbs(verbs []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(verbs, w) {
			return false
		}
	}
	return true
}

// dropManagedFields keeps informer caches small: no controller here reads
// managedFields.
func dropManagedFields(obj any) (any, error) {
	if accessor, err := meta.Accessor(obj); err == nil {
		accessor.SetManagedFields(nil)
	}
	return obj, nil
}
