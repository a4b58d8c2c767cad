package openapi

import (
	"reflect"
	"testing"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// builtinKinds converts the resource catalog into the kinds to publish,
// as the server does.
func builtinKinds(tb testing.TB) []Kind {
	tb.Helper()
	scheme := resources.Scheme()
	var kinds []Kind
	for _, r := range resources.Builtin() {
		k := Kind{
			GVK:        r.GroupVersionKind(),
			Type:       reflect.TypeOf(r.New()),
			Resource:   r.GVR.Resource,
			Namespaced: r.Namespaced,
			Verbs:      r.Verbs,
		}
		if r.NewList != nil {
			k.ListType = reflect.TypeOf(r.NewList())
		}
		for _, sub := range r.Subresources {
			s := Subresource{Name: sub.Name, GVK: sub.GVK, Verbs: sub.Verbs}
			if !sub.GVK.Empty() {
				obj, err := scheme.New(sub.GVK)
				if err != nil {
					tb.Fatalf("subresource %s/%s: %v", r.GVR.Resource, sub.Name, err)
				}
				s.Type = reflect.TypeOf(obj)
			}
			k.Subresources = append(k.Subresources, s)
		}
		kinds = append(kinds, k)
	}
	return kinds
}
