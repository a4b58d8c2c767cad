package server

import (
	"reflect"

	"github.com/tugcluster/tug/internal/apiserver/openapi"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// openAPIKinds describes the catalog's resources for the OpenAPI documents.
func openAPIKinds(catalog []resources.Resource) []openapi.Kind {
	kinds := make([]openapi.Kind, 0, len(catalog))
	for _, r := range catalog {
		k := openapi.Kind{
			GVK:        r.GroupVersionKind(),
			Type:       reflect.TypeOf(r.New()).Elem(),
			Resource:   r.GVR.Resource,
			Namespaced: r.Namespaced,
			Verbs:      r.Verbs,
		}
		if r.NewList != nil {
			k.ListType = reflect.TypeOf(r.NewList()).Elem()
		}
		k.Subresources = openAPISubresources(r.Subresources)
		kinds = append(kinds, k)
	}
	return kinds
}

// openAPISubresources describes a resource's subresources for OpenAPI:
// those of another kind (scale) with its Go type from the scheme.
func openAPISubresources(subs []resources.Subresource) []openapi.Subresource {
	var out []openapi.Subresource
	for _, sub := range subs {
		s := openapi.Subresource{Name: sub.Name, GVK: sub.GVK, Verbs: sub.Verbs}
		if !sub.GVK.Empty() {
			if obj, err := resources.Scheme().New(sub.GVK); err == nil {
				s.Type = reflect.TypeOf(obj).Elem()
			}
		}
		out = append(out, s)
	}
	return out
}
