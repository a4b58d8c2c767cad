package server

import (
	"net/http"
	"sync/atomic"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver"
	"github.com/tugcluster/tug/internal/apiserver/customresources"
	"github.com/tugcluster/tug/internal/apiserver/discovery"
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

// customDocuments rebuilds discovery from the built-in catalog and the
// served custom resources.
type customDocuments struct {
	catalog       []resources.Resource
	serverAddress string
	discovery     *switchable
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

// permissiveSchema accepts everything. TEMPORARY.
type permissiveSchema struct{}

func (permissiveSchema) Default(map[string]any)                  {}
func (permissiveSchema) Prune(map[string]any) []string           { return nil }
func (permissiveSchema) Validate(map[string]any) field.ErrorList { return nil }

func validateCustomSchema(*apiextensionsv1.JSONSchemaProps, *field.Path) field.ErrorList { return nil }

func newCustomSchema(*apiextensionsv1.JSONSchemaProps) (customresources.Schema, error) {
	return permissiveSchema{}, nil
}
