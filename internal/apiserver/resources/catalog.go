package resources

import (
	"reflect"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Verb sets of subresources and of the resources that are not plain
// stored collections.
var (
	// VerbsGetList is for read-only collections (componentstatuses).
	VerbsGetList = []string{"get", "list"}
	// VerbsNoCollection is the stored set without deletecollection
	// (namespaces, whose deletion is a lifecycle of its own).
	VerbsNoCollection = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	// VerbsProxy is for the proxy subresources of nodes, pods and services.
	VerbsProxy = []string{"create", "delete", "get", "patch", "update"}
	// VerbsConnect is for the streaming subresources (attach, exec,
	// portforward): get and create (POST) both open a stream.
	VerbsConnect = []string{"create", "get"}
	// VerbsGet is for pods/log.
	VerbsGet = []string{"get"}
	// VerbsUpdate is for namespaces/finalize.
	VerbsUpdate = []string{"update"}
)

// Categories.
const (
	// CategoryAll is what `kubectl get all` lists.
	CategoryAll = "all"
	// CategoryAPIExtensions groups the resources that extend the API.
	CategoryAPIExtensions = "api-extensions"
)

// Builtin returns the catalog of the built-in resources, in the order of
// upstream's `kubectl api-resources` (core first, then by group). The
// slice is built once and shared: callers must not modify it or the
// Resources in it.
func Builtin() []Resource {
	return builtin()
}

var builtin = sync.OnceValue(func() []Resource {
	var rs []Resource
	for _, group := range [][]Resource{
		coreV1(),
		admissionregistrationV1(),
		apiextensionsV1(),
		apiregistrationV1(),
		appsV1(),
		authenticationV1(),
		authorizationV1(),
		autoscalingV2(),
		autoscalingV1(),
		batchV1(),
		certificatesV1(),
		coordinationV1(),
		discoveryV1(),
		eventsV1(),
		flowcontrolV1(),
		networkingV1(),
		nodeV1(),
		policyV1(),
		rbacV1(),
		resourceV1(),
		schedulingV1(),
		storageV1(),
		storagemigrationV1(),
	} {
		rs = append(rs, group...)
	}
	return rs
})

// scope tells whether a resource's objects live in namespaces.
type scope bool

const (
	namespaced scope = true
	cluster    scope = false
)

// builder fills in a Resource from its Go types; the catalog files use it
// so that each entry is one readable line or a few.
type builder struct{ r Resource }

// stored starts a stored resource with the full set of verbs. Kind,
// ListKind and SingularName come from the Go types.
func stored(gv schema.GroupVersion, resource string, obj, list runtime.Object, sc scope) *builder {
	b := virtual(gv, resource, obj, sc, VerbsCRUD...)
	b.r.ListKind = kindOf(list)
	b.r.NewList = newFunc(list)
	b.r.StorageVersion = b.r.GroupVersionKind()
	return b
}

// virtual starts a resource that is not stored (bindings, reviews): it
// has no list type and only the verbs given.
func virtual(gv schema.GroupVersion, resource string, obj runtime.Object, sc scope, verbs ...string) *builder {
	kind := kindOf(obj)
	return &builder{r: Resource{
		GVR:          gv.WithResource(resource),
		Kind:         kind,
		SingularName: strings.ToLower(kind),
		Namespaced:   bool(sc),
		Verbs:        verbs,
		New:          newFunc(obj),
	}}
}

// short sets the short names, such as "po" for pods.
func (b *builder) short(names ...string) *builder {
	b.r.ShortNames = names
	return b
}

// categories sets the categories, such as "all".
func (b *builder) categories(names ...string) *builder {
	b.r.Categories = names
	return b
}

// verbs replaces the verbs.
func (b *builder) verbs(verbs ...string) *builder {
	b.r.Verbs = verbs
	return b
}

// storedAs sets the kind the objects are stored as when it differs from
// the resource's own.
func (b *builder) storedAs(gvk schema.GroupVersionKind) *builder {
	b.r.StorageVersion = gvk
	return b
}

// computed marks a resource whose objects are computed on each request
// rather than stored (componentstatuses).
func (b *builder) computed() *builder {
	b.r.StorageVersion = schema.GroupVersionKind{}
	return b
}

// sub adds a subresource that takes and returns the parent's kind.
func (b *builder) sub(name string, verbs ...string) *builder {
	b.r.Subresources = append(b.r.Subresources, Subresource{Name: name, Verbs: verbs})
	return b
}

// subKind adds a subresource whose objects are of another kind.
func (b *builder) subKind(name string, gvk schema.GroupVersionKind, verbs ...string) *builder {
	b.r.Subresources = append(b.r.Subresources, Subresource{Name: name, GVK: gvk, Verbs: verbs})
	return b
}

// status adds the status subresource.
func (b *builder) status() *builder {
	return b.sub("status", VerbsStatus...)
}

// scale adds the scale subresource (autoscaling/v1 Scale).
func (b *builder) scale() *builder {
	return b.subKind("scale", scaleGVK, VerbsStatus...)
}

var scaleGVK = schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}

// done returns the Resource, with its subresources sorted by name as
// discovery lists them.
func (b *builder) done() Resource {
	slices.SortFunc(b.r.Subresources, func(a, c Subresource) int {
		return strings.Compare(a.Name, c.Name)
	})
	return b.r
}

// kindOf is the name of the Go type obj points to, which is its kind for
// every type in k8s.io/api.
func kindOf(obj runtime.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

// newFunc returns a constructor of empty objects of obj's type.
func newFunc(obj runtime.Object) func() runtime.Object {
	t := reflect.TypeOf(obj).Elem()
	return func() runtime.Object {
		return reflect.New(t).Interface().(runtime.Object)
	}
}
