package server

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/controllers/garbagecollector"
	"github.com/tugcluster/tug/internal/controllers/namespace"
	"github.com/tugcluster/tug/internal/controllers/rootcacert"
	"github.com/tugcluster/tug/internal/controllers/serviceaccount"
)

// runControllers runs the controllers that belong to the API server's
// contract (garbage collection, namespace deletion, each namespace's
// default service account and root CA ConfigMap) until ctx ends.
// They talk to the API server only through cfg, as any client would.
func runControllers(ctx context.Context, cfg *rest.Config, caPEM []byte, catalog []resources.Resource) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
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
	typed := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute, informers.WithTransform(dropManagedFields))
	metaFactory := metadatainformer.NewSharedInformerFactory(meta, 10*time.Minute)
	nsController, err := namespace.New(client, meta, typed.Core().V1().Namespaces(), namespaced)
	if err != nil {
		return err
	}
	gc, err := garbagecollector.New(meta, metaFactory, gcResources)
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
	g, gctx := errgroup.WithContext(ctx)
	typed.Start(gctx.Done())
	metaFactory.Start(gctx.Done())
	g.Go(func() error { return nsController.Run(gctx) })
	g.Go(func() error { return gc.Run(gctx) })
	g.Go(func() error { return saController.Run(gctx) })
	g.Go(func() error { return caController.Run(gctx) })
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
