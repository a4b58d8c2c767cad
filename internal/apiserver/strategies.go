package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// strategyFor returns the strategy of a resource: its own if it has one,
// else the generic one, with spec/status separation for resources that
// have a status subresource.
func strategyFor(res *resources.Resource, own map[schema.GroupVersionResource]registry.Strategy) registry.Strategy {
	if s, ok := own[res.GVR]; ok {
		return s
	}
	_, hasStatus := res.Subresource("status")
	return registry.DefaultStrategy{HasStatus: hasStatus, ClusterScoped: !res.Namespaced}
}
