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
		for _, sub := range r.Subresources {
			s := openapi.Subresource{Name: sub.Name, GVK: sub.GVK, Verbs: sub.Verbs}
			if !sub.GVK.Empty() {
				if obj, err := resources.Scheme().New(sub.GVK); err == nil {
					s.Type = reflect.TypeOf(obj).Elem()
				}
			}
			k.Subresources = append(k.Subresources, s)
		}
		kinds = append(kinds, k)
	}
	return kinds
}
