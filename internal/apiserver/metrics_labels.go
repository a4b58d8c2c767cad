package apiserver

import (
	"net/http"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/endpoints"
	"github.com/tugcluster/tug/internal/apiserver/metrics"
	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// longRunningSubresources stream for as long as the client wants.
var longRunningSubresources = map[string]bool{"log": true, "exec": true, "attach": true, "portforward": true, "proxy": true}

// requestLabels labels requests for metrics. Only served resources get
// resource labels, so clients cannot mint series with made-up paths.
func requestLabels(stores map[schema.GroupVersionResource]*registry.Store) func(*http.Request) metrics.RequestLabels {
	return func(r *http.Request) metrics.RequestLabels {
		info := endpoints.RequestInfoFor(r)
		if !info.IsResourceRequest {
			return metrics.RequestLabels{}
		}
		store, ok := stores[schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource}]
		if !ok {
			return metrics.RequestLabels{}
		}
		if _, known := store.Resource.Subresource(info.Subresource); info.Subresource != "" && !known {
			return metrics.RequestLabels{}
		}
		scope := "cluster"
		switch {
		case info.Name != "" || info.Verb == "create":
			scope = "resource"
		case info.Namespace != "":
			scope = "namespace"
		}
		return metrics.RequestLabels{
			Verb: info.Verb, Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource,
			Subresource: info.Subresource, Scope: scope,
			LongRunning: info.Verb == "watch" || longRunningSubresources[info.Subresource],
		}
	}
}
