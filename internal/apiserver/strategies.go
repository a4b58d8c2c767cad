package apiserver

import (
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// strategyFor returns the strategy of a resource: the generic one, with
// spec/status separation for resources that have a status subresource.
func strategyFor(res *resources.Resource) registry.Strategy {
	hasStatus := false
	for _, sub := range res.Subresources {
		if sub.Name == "status" {
			hasStatus = true
		}
	}
	return registry.DefaultStrategy{HasStatus: hasStatus, ClusterScoped: !res.Namespaced}
}
