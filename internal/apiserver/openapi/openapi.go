package openapi

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/tugcluster/tug/internal/version"
)

// Kind is one top-level kind to publish, with the resource that serves it.
type Kind struct {
	// GVK is the kind of the objects, e.g. apps/v1 Deployment.
	GVK schema.GroupVersionKind
	// Type is the Go struct type of the objects (a pointer type is
	// accepted too), e.g. reflect.TypeFor[appsv1.Deployment]().
	Type reflect.Type
	// ListType is the Go struct type of lists of the objects; nil for
	// resources that cannot be listed. Its kind is its type name.
	ListType reflect.Type
	// Resource is the plural resource name in URL paths, e.g. deployments.
	Resource string
	// Namespaced puts the resource under /namespaces/{namespace}.
	Namespaced bool
	// Verbs are the discovery verbs: get, list, watch, create, update,
	// patch, delete and deletecollection. Each becomes operations on the
	// resource's paths; other verbs are ignored.
	Verbs []string
	// Subresources, such as status and scale, are published under the
	// object path. Optional.
	Subresources []Subresource
}

// Subresource is a subresource of a Kind. The streaming subresources
// (log, exec, attach, portforward, proxy) are accepted and left out of the
// documents: their bodies are not API objects.
type Subresource struct {
	// Name is the path segment after the object name, e.g. status.
	Name string
	// GVK is the kind the subresource takes and returns, e.g. autoscaling/v1
	// Scale; empty means the parent's kind.
	GVK schema.GroupVersionKind
	// Type is the Go struct type of the subresource's body; nil means the
	// parent's Type.
	Type reflect.Type
	// Verbs are get, update, patch and create; others are ignored.
	Verbs []string
}

// streamingSubresources are the subresources that stream logs or
// connections rather than take and return objects.
var streamingSubresources = []string{"attach", "exec", "log", "portforward", "proxy"}

// OpenAPI holds the OpenAPI documents of a set of kinds and serves them.
// It is safe for concurrent use.
type OpenAPI struct {
	v2 *document
	// v3 holds a document per group-version, keyed by its path (api/v1,
	// apis/apps/v1).
	v3    map[string]*document
	index func() (*encoding, error)
	// schemas are the OpenAPI 3.0 schemas by definition name.
	schemas map[string]*spec.Schema

	// b, routes and resources are what the documents are made of, kept
	// for WithCustom. b's definitions do not change once made; only its
	// reference cache does, while documents are built.
	b         *builder
	routes    []route
	resources map[schema.GroupVersionResource]bool
}

// The meta types the operations take and return.
var (
	deleteOptionsType = reflect.TypeFor[metav1.DeleteOptions]()
	statusType        = reflect.TypeFor[metav1.Status]()
	watchEventType    = reflect.TypeFor[metav1.WatchEvent]()
	patchType         = reflect.TypeFor[metav1.Patch]()
)

// New builds the Swagger 2.0 document and the OpenAPI 3.0 document of each
// group-version describing kinds, their resources' paths and every type
// they reach. Paths and serializations are made on first request.
func New(kinds []Kind) (*OpenAPI, error) {
	b := newBuilder()
	for _, t := range []reflect.Type{deleteOptionsType, statusType, watchEventType, patchType} {
		b.define(t)
	}
	addGVK := func(name string, gvk schema.GroupVersionKind) {
		d := b.byName[name]
		d.gvks = append(d.gvks, gvk)
	}
	addGVK(statusDef, metav1.SchemeGroupVersion.WithKind("Status"))

	var routes []route
	gvs := map[schema.GroupVersion]bool{}
	resources := map[schema.GroupVersionResource]bool{}
	for i := range kinds {
		k := &kinds[i]
		if err := validate(k); err != nil {
			return nil, err
		}
		gvr := k.GVK.GroupVersion().WithResource(k.Resource)
		if resources[gvr] {
			return nil, fmt.Errorf("resource %v is published twice", gvr)
		}
		resources[gvr] = true
		gvs[k.GVK.GroupVersion()] = true

		typeDef := b.define(k.Type)
		addGVK(typeDef, k.GVK)
		var listDef string
		if k.ListType != nil {
			listDef = b.define(k.ListType)
			addGVK(listDef, k.GVK.GroupVersion().WithKind(deref(k.ListType).Name()))
		}
		var subs []Subresource
		var subDefs []string
		for _, sub := range k.Subresources {
			if slices.Contains(streamingSubresources, sub.Name) {
				continue
			}
			def := typeDef
			if sub.Type != nil {
				def = b.define(sub.Type)
			}
			if !sub.GVK.Empty() {
				addGVK(def, sub.GVK)
			}
			subs, subDefs = append(subs, sub), append(subDefs, def)
		}
		routes = append(routes, routesOf(k, subs, typeDef, listDef, subDefs)...)
	}
	for gv := range gvs {
		addGVK(deleteOptionsDef, gv.WithKind("DeleteOptions"))
		addGVK(watchEventDef, gv.WithKind("WatchEvent"))
	}
	b.setGVKs()
	b.v3Schemas()
	if b.err != nil {
		return nil, b.err
	}

	return publish(b, routes, resources, nil), nil
}

// publish returns the documents of b's definitions and routes. The v3
// documents in reuse, by group-version path, are served as they are:
// WithCustom keeps the documents, and their cached encodings, of the
// group-versions it does not change.
func publish(b *builder, routes []route, resources map[schema.GroupVersionResource]bool, reuse map[string]*document) *OpenAPI {
	info := version.Get().KubernetesVersion
	o := &OpenAPI{
		v3:        make(map[string]*document, len(reuse)),
		schemas:   make(map[string]*spec.Schema, len(b.byName)),
		b:         b,
		routes:    routes,
		resources: resources,
	}
	for name, d := range b.byName {
		o.schemas[name] = d.v3
	}
	// The documents' paths are most of their size, and most servers never
	// serve most of them: each is built on its first request and dropped
	// once serialized. The builder caches references as it goes.
	var building sync.Mutex
	o.v2 = newV2Document(func() *spec.Swagger {
		building.Lock()
		defer building.Unlock()
		return b.swagger(routes, info)
	})
	byGV := map[string][]route{}
	for _, r := range routes {
		if key := gvPath(r.gv); reuse[key] == nil {
			byGV[key] = append(byGV[key], r)
		}
	}
	for key, rs := range byGV {
		o.v3[key] = newV3Document(func() *spec3.OpenAPI {
			building.Lock()
			defer building.Unlock()
			return b.openAPIV3(rs, info)
		})
	}
	for key, d := range reuse {
		o.v3[key] = d
	}
	o.index = sync.OnceValues(o.encodeIndex)
	return o
}

// validate checks that k can be published.
func validate(k *Kind) error {
	switch {
	case k.GVK.Version == "" || k.GVK.Kind == "":
		return fmt.Errorf("kind %v: version and kind are required", k.GVK)
	case k.Type == nil || deref(k.Type).Kind() != reflect.Struct:
		return fmt.Errorf("kind %v: Type %v is not a struct type", k.GVK, k.Type)
	case k.ListType != nil && deref(k.ListType).Kind() != reflect.Struct:
		return fmt.Errorf("kind %v: ListType %v is not a struct type", k.GVK, k.ListType)
	case k.Resource == "" || strings.Contains(k.Resource, "/"):
		return fmt.Errorf("kind %v: invalid resource name %q", k.GVK, k.Resource)
	}
	return validateSubresources("kind", k.GVK, k.Subresources)
}

// validateSubresources checks the subresources of a kind (what names
// which sort of kind, for errors).
func validateSubresources(what string, gvk schema.GroupVersionKind, subs []Subresource) error {
	for _, sub := range subs {
		if sub.Name == "" || strings.Contains(sub.Name, "/") {
			return fmt.Errorf("%s %v: invalid subresource name %q", what, gvk, sub.Name)
		}
		if sub.Type != nil && deref(sub.Type).Kind() != reflect.Struct {
			return fmt.Errorf("%s %v: subresource %s: Type %v is not a struct type", what, gvk, sub.Name, sub.Type)
		}
	}
	return nil
}

// Schemas returns the OpenAPI 3.0 schema of every definition, keyed by
// definition name, with group-version-kind extensions on the top-level
// kinds: what server-side apply's type converter needs. Callers must not
// modify them.
func (o *OpenAPI) Schemas() map[string]*spec.Schema { return o.schemas }

// GroupVersions returns the paths of the group-versions with an OpenAPI v3
// document (api/v1, apis/apps/v1…), sorted.
func (o *OpenAPI) GroupVersions() []string {
	keys := make([]string, 0, len(o.v3))
	for k := range o.v3 {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Prepare makes the JSON and protobuf forms of the v2 document and the JSON
// of every v3 document now, rather than on the first request for each;
// for the built-in kinds that takes a few hundred milliseconds. The v3
// protobuf forms and gzip stay lazy.
func (o *OpenAPI) Prepare() error {
	if _, err := o.v2.proto(); err != nil {
		return err
	}
	_, err := o.index()
	return err
}
