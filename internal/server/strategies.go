package server

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	crschema "github.com/tugcluster/tug/internal/apiserver/customresources/schema"
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/apiextensions"
	"github.com/tugcluster/tug/internal/apiserver/resources/apps"
	"github.com/tugcluster/tug/internal/apiserver/resources/batch"
	"github.com/tugcluster/tug/internal/apiserver/resources/certificates"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
	"github.com/tugcluster/tug/internal/apiserver/resources/events"
	"github.com/tugcluster/tug/internal/apiserver/resources/networking"
	"github.com/tugcluster/tug/internal/apiserver/resources/scheduling"
)

// buildStrategies collects the resources' own strategies and the service
// address allocator the service strategy uses.
func buildStrategies() (map[schema.GroupVersionResource]registry.Strategy, *core.Allocator, error) {
	strategies, allocator, err := core.Strategies(core.Options{})
	if err != nil {
		return nil, nil, err
	}
	for _, more := range []map[schema.GroupVersionResource]registry.Strategy{apiextensions.Strategies(crschema.ValidateCRDSchema), apps.Strategies(), batch.Strategies(), certificates.Strategies(), networking.Strategies(), events.Strategies(), scheduling.Strategies()} {
		for gvr, s := range more {
			strategies[gvr] = s
		}
	}
	return strategies, allocator, nil
}

// syncAllocator records the addresses of the stored services, so that a
// restarted server never hands them out again.
func syncAllocator(ctx context.Context, stores map[schema.GroupVersionResource]*registry.Store, allocator *core.Allocator) error {
	list, err := stores[corev1.SchemeGroupVersion.WithResource("services")].List(ctx, "", &metav1.ListOptions{})
	if err != nil {
		return err
	}
	return allocator.Sync(list.(*corev1.ServiceList).Items)
}
