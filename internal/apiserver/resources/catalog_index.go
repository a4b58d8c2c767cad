package resources

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// Group is an API group with the versions it serves, the preferred first.
type Group struct {
	// Name is the group's name; "" is the legacy core group.
	Name string
	// Versions in order of preference, such as ["v2", "v1"].
	Versions []string
}

// PreferredVersion is the version clients use when they do not name one.
func (g Group) PreferredVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: g.Name, Version: g.Versions[0]}
}

// Catalog indexes a set of resources for the lookups the server makes per
// request. It is immutable and safe for concurrent use; the Resources it
// returns are shared and must not be modified.
type Catalog struct {
	resources []Resource
	byGVR     map[schema.GroupVersionResource]*Resource
	byGVK     map[schema.GroupVersionKind]*Resource
	byGV      map[schema.GroupVersion][]*Resource
	groups    []Group
}

// NewCatalog indexes rs. Of two resources with the same GVR or GVK the
// first wins.
func NewCatalog(rs []Resource) *Catalog {
	c := &Catalog{
		resources: rs,
		byGVR:     make(map[schema.GroupVersionResource]*Resource, len(rs)),
		byGVK:     make(map[schema.GroupVersionKind]*Resource, len(rs)),
		byGV:      make(map[schema.GroupVersion][]*Resource),
	}
	versions := map[string][]string{}
	for i := range rs {
		r := &rs[i]
		if _, ok := c.byGVR[r.GVR]; ok {
			continue
		}
		c.byGVR[r.GVR] = r
		if _, ok := c.byGVK[r.GroupVersionKind()]; !ok {
			c.byGVK[r.GroupVersionKind()] = r
		}
		gv := r.GVR.GroupVersion()
		if _, ok := c.byGV[gv]; !ok {
			versions[gv.Group] = append(versions[gv.Group], gv.Version)
		}
		c.byGV[gv] = append(c.byGV[gv], r)
	}
	for name, vs := range versions {
		// Kubernetes-aware order: v2 > v1 > v1beta2 > v1beta1 > v1alpha1.
		slices.SortFunc(vs, func(a, b string) int { return version.CompareKubeAwareVersionStrings(b, a) })
		c.groups = append(c.groups, Group{Name: name, Versions: vs})
	}
	slices.SortFunc(c.groups, func(a, b Group) int {
		pa, pb := groupPriority(a.Name), groupPriority(b.Name)
		if pa != pb {
			return pa - pb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return c
}

// Resources returns the resources the catalog was built from.
func (c *Catalog) Resources() []Resource { return c.resources }

// Lookup returns the resource served at gvr.
func (c *Catalog) Lookup(gvr schema.GroupVersionResource) (*Resource, bool) {
	r, ok := c.byGVR[gvr]
	return r, ok
}

// LookupKind returns the resource whose objects are of kind gvk.
func (c *Catalog) LookupKind(gvk schema.GroupVersionKind) (*Resource, bool) {
	r, ok := c.byGVK[gvk]
	return r, ok
}

// ForGroupVersion returns the resources served in gv, in catalog order;
// nil if gv is not served.
func (c *Catalog) ForGroupVersion(gv schema.GroupVersion) []*Resource {
	return c.byGV[gv]
}

// Groups returns the served groups in the order discovery lists them: the
// core group first, then the built-in groups in upstream's priority order,
// then any other groups by name.
func (c *Catalog) Groups() []Group { return c.groups }

// GroupVersions returns every served group-version, groups in the order of
// Groups and each group's versions preferred first.
func (c *Catalog) GroupVersions() []schema.GroupVersion {
	var gvs []schema.GroupVersion
	for _, g := range c.groups {
		for _, v := range g.Versions {
			gvs = append(gvs, schema.GroupVersion{Group: g.Name, Version: v})
		}
	}
	return gvs
}

// Subresource returns the named subresource of r.
func (r *Resource) Subresource(name string) (*Subresource, bool) {
	for i := range r.Subresources {
		if r.Subresources[i].Name == name {
			return &r.Subresources[i], true
		}
	}
	return nil, false
}

// BuiltinCatalog returns the catalog of Builtin, built once.
func BuiltinCatalog() *Catalog { return builtinCatalog() }

var builtinCatalog = sync.OnceValue(func() *Catalog { return NewCatalog(Builtin()) })

// Lookup returns the built-in resource served at gvr.
func Lookup(gvr schema.GroupVersionResource) (*Resource, bool) {
	return BuiltinCatalog().Lookup(gvr)
}

// ForGroupVersion returns the built-in resources served in gv.
func ForGroupVersion(gv schema.GroupVersion) []*Resource {
	return BuiltinCatalog().ForGroupVersion(gv)
}

// ServedVersions returns the built-in groups with their versions,
// preferred first, in discovery order.
func ServedVersions() []Group {
	return BuiltinCatalog().Groups()
}

// groupOrder is the order in which upstream kube-apiserver lists the
// built-in groups under /apis (its group priorities, highest first).
var groupOrder = []string{
	"",
	"apiregistration.k8s.io",
	"apps",
	"events.k8s.io",
	"authentication.k8s.io",
	"authorization.k8s.io",
	"autoscaling",
	"batch",
	"certificates.k8s.io",
	"networking.k8s.io",
	"policy",
	"rbac.authorization.k8s.io",
	"storage.k8s.io",
	"admissionregistration.k8s.io",
	"apiextensions.k8s.io",
	"scheduling.k8s.io",
	"coordination.k8s.io",
	"node.k8s.io",
	"discovery.k8s.io",
	"resource.k8s.io",
	"flowcontrol.apiserver.k8s.io",
	"storagemigration.k8s.io",
}

// groupPriority is the position of group in groupOrder; other groups come
// after all of them.
func groupPriority(group string) int {
	if i := slices.Index(groupOrder, group); i >= 0 {
		return i
	}
	return len(groupOrder)
}
