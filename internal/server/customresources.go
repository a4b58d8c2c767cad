package server

import (
	"net/http"
	"slices"
	"sync/atomic"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver"
	"github.com/tugcluster/tug/internal/apiserver/customresources"
	crschema "github.com/tugcluster/tug/internal/apiserver/customresources/schema"
	"github.com/tugcluster/tug/internal/apiserver/discovery"
	"github.com/tugcluster/tug/internal/apiserver/openapi"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/controllers/garbagecollector"
)

// switchable serves through whichever handler was set last: discovery and
// OpenAPI documents are rebuilt when CRDs come and go.
type switchable struct {
	current atomic.Pointer[apiserver.PathHandler]
}

func newSwitchable(h apiserver.PathHandler) *switchable {
	s := &switchable{}
	s.set(h)
	return s
}

func (s *switchable) set(h apiserver.PathHandler) { s.current.Store(&h) }

// Handles implements apiserver.PathHandler.
func (s *switchable) Handles(path string) bool { return (*s.current.Load()).Handles(path) }

// ServeHTTP implements http.Handler.
func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.current.Load()).ServeHTTP(w, r)
}

// customDocuments rebuilds discovery and the OpenAPI documents from the
// built-in ones and the served custom resources.
type customDocuments struct {
	catalog       []resources.Resource
	serverAddress string
	discovery     *switchable
	openAPIBase   *openapi.OpenAPI
	openAPI       *switchable
	logError      func(err error, msg string, keysAndValues ...any)
}

// update implements apiserver.Config.OnCustomResources.
func (d *customDocuments) update(served []customresources.Served) {
	rs := make([]resources.Resource, 0, len(d.catalog)+len(served))
	rs = append(rs, d.catalog...)
	for _, s := range served {
		rs = append(rs, *s.Resource)
	}
	disc, err := discovery.New(rs, d.serverAddress)
	if err != nil {
		d.logError(err, "Rebuilding discovery for custom resources")
		return
	}
	d.discovery.set(disc)
	kinds := make([]openapi.CustomKind, 0, len(served))
	for _, s := range served {
		kinds = append(kinds, openAPIKind(s))
	}
	docs, err := d.openAPIBase.WithCustom(kinds)
	if err != nil {
		// One kind the documents refuse (a name published twice) must not
		// hide the others: add them one at a time, leaving it out.
		var accepted []openapi.CustomKind
		for _, k := range kinds {
			if _, err := d.openAPIBase.WithCustom(append(slices.Clip(accepted), k)); err != nil {
				d.logError(err, "Publishing a custom resource in OpenAPI", "kind", k.GVK)
				continue
			}
			accepted = append(accepted, k)
		}
		if docs, err = d.openAPIBase.WithCustom(accepted); err != nil {
			d.logError(err, "Rebuilding OpenAPI for custom resources")
			return
		}
	}
	d.openAPI.set(docs)
}

// openAPIKind describes a served custom resource version for OpenAPI.
func openAPIKind(s customresources.Served) openapi.CustomKind {
	r := s.Resource
	k := openapi.CustomKind{GVK: r.GroupVersionKind(), ListKind: r.ListKind, Resource: r.GVR.Resource,
		Namespaced: r.Namespaced, Verbs: r.Verbs, Subresources: openAPISubresources(r.Subresources)}
	if s.Version.Schema != nil {
		k.Schema = s.Version.Schema.OpenAPIV3Schema
	}
	return k
}

// collectedCustomResources lists one served version of each custom
// resource, for the garbage collector and the namespace controller.
func collectedCustomResources(custom *customresources.Manager) []garbagecollector.Resource {
	if custom == nil {
		return nil
	}
	var out []garbagecollector.Resource
	seen := map[schema.GroupResource]bool{}
	for _, s := range custom.Served() {
		gr := s.Resource.GVR.GroupResource()
		if !seen[gr] {
			seen[gr] = true
			out = append(out, garbagecollector.Resource{GVR: s.Resource.GVR, Kind: s.Resource.Kind, Namespaced: s.Resource.Namespaced})
		}
	}
	return out
}

// newCustomSchema builds the schema of a CRD version.
func newCustomSchema(props *apiextensionsv1.JSONSchemaProps) (customresources.Schema, error) {
	return crschema.New(props)
}
