package discovery

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// apiVersions is the legacy document at /api.
func apiVersions(c *resources.Catalog, serverAddress string) *metav1.APIVersions {
	doc := &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{
			ClientCIDR:    "0.0.0.0/0",
			ServerAddress: serverAddress,
		}},
	}
	for _, g := range c.Groups() {
		if g.Name == "" {
			doc.Versions = g.Versions
		}
	}
	return doc
}

// apiGroup is the legacy document at /apis/<group>, and one entry of /apis.
func apiGroup(g resources.Group) metav1.APIGroup {
	group := metav1.APIGroup{Name: g.Name}
	for _, v := range g.Versions {
		group.Versions = append(group.Versions, groupVersionForDiscovery(g.Name, v))
	}
	group.PreferredVersion = group.Versions[0]
	return group
}

func groupVersionForDiscovery(group, version string) metav1.GroupVersionForDiscovery {
	return metav1.GroupVersionForDiscovery{
		GroupVersion: schema.GroupVersion{Group: group, Version: version}.String(),
		Version:      version,
	}
}

// apiGroupList is the legacy document at /apis: every group but the core.
func apiGroupList(c *resources.Catalog) *metav1.APIGroupList {
	doc := &metav1.APIGroupList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
		Groups:   []metav1.APIGroup{},
	}
	for _, g := range c.Groups() {
		if g.Name != "" {
			doc.Groups = append(doc.Groups, apiGroup(g))
		}
	}
	return doc
}

// apiResourceList is the legacy document at /api/v1 and
// /apis/<group>/<version>: each resource, followed by its subresources as
// "<resource>/<subresource>", sorted by name.
func apiResourceList(gv schema.GroupVersion, rs []*resources.Resource) *metav1.APIResourceList {
	doc := &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: gv.String(),
		APIResources: []metav1.APIResource{},
	}
	if gv.Group == "" {
		// Upstream leaves apiVersion out of /api/v1, and only there.
		doc.APIVersion = ""
	}
	for _, r := range sortedByName(rs) {
		doc.APIResources = append(doc.APIResources, metav1.APIResource{
			Name:               r.GVR.Resource,
			SingularName:       r.SingularName,
			Namespaced:         r.Namespaced,
			Kind:               r.Kind,
			Verbs:              r.Verbs,
			ShortNames:         r.ShortNames,
			Categories:         r.Categories,
			StorageVersionHash: storageVersionHash(r.StorageVersion),
		})
		for _, sub := range r.Subresources {
			res := metav1.APIResource{
				Name:       r.GVR.Resource + "/" + sub.Name,
				Namespaced: r.Namespaced,
				Kind:       r.Kind,
				Verbs:      sub.Verbs,
			}
			if !sub.GVK.Empty() {
				res.Kind = sub.GVK.Kind
				// Group and version are shown only when they differ from
				// the list's own.
				if sub.GVK.GroupVersion() != gv {
					res.Group, res.Version = sub.GVK.Group, sub.GVK.Version
				}
			}
			doc.APIResources = append(doc.APIResources, res)
		}
	}
	return doc
}

// aggregatedList is the aggregated (apidiscovery.k8s.io/v2) document of
// the given groups: at /api the core group, at /apis all the others.
func aggregatedList(c *resources.Catalog, groups []resources.Group) *apidiscoveryv2.APIGroupDiscoveryList {
	doc := &apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: apidiscoveryv2.SchemeGroupVersion.String()},
		Items:    []apidiscoveryv2.APIGroupDiscovery{},
	}
	for _, g := range groups {
		item := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.Name}}
		for _, v := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: v}
			item.Versions = append(item.Versions, apidiscoveryv2.APIVersionDiscovery{
				Version:   v,
				Resources: aggregatedResources(c.ForGroupVersion(gv)),
				Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent,
			})
		}
		doc.Items = append(doc.Items, item)
	}
	return doc
}

func aggregatedResources(rs []*resources.Resource) []apidiscoveryv2.APIResourceDiscovery {
	out := make([]apidiscoveryv2.APIResourceDiscovery, 0, len(rs))
	for _, r := range sortedByName(rs) {
		scope := apidiscoveryv2.ScopeCluster
		if r.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		gv := r.GVR.GroupVersion()
		res := apidiscoveryv2.APIResourceDiscovery{
			Resource:         r.GVR.Resource,
			ResponseKind:     responseKind(gv, r.GroupVersionKind()),
			Scope:            scope,
			SingularResource: r.SingularName,
			Verbs:            r.Verbs,
			ShortNames:       r.ShortNames,
			Categories:       r.Categories,
		}
		for _, sub := range r.Subresources {
			kind := sub.GVK
			if kind.Empty() {
				kind = r.GroupVersionKind()
			}
			res.Subresources = append(res.Subresources, apidiscoveryv2.APISubresourceDiscovery{
				Subresource:  sub.Name,
				ResponseKind: responseKind(gv, kind),
				Verbs:        sub.Verbs,
			})
		}
		out = append(out, res)
	}
	return out
}

// responseKind is the kind an aggregated entry of group-version gv
// returns; as in the legacy lists, group and version are left empty when
// they are gv's own.
func responseKind(gv schema.GroupVersion, kind schema.GroupVersionKind) *metav1.GroupVersionKind {
	out := &metav1.GroupVersionKind{Kind: kind.Kind}
	if kind.GroupVersion() != gv {
		out.Group, out.Version = kind.Group, kind.Version
	}
	return out
}

func sortedByName(rs []*resources.Resource) []*resources.Resource {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b *resources.Resource) int {
		return strings.Compare(a.GVR.Resource, b.GVR.Resource)
	})
	return rs
}

// storageVersionHash is the opaque token discovery shows for the version a
// resource is stored as, so that clients (the storage version migrator)
// notice when it changes: the first 8 bytes of the SHA-256 of
// "group/version/kind", base64-encoded. Empty for resources that are not
// stored.
func storageVersionHash(gvk schema.GroupVersionKind) string {
	if gvk.Empty() {
		return ""
	}
	sum := sha256.Sum256([]byte(gvk.Group + "/" + gvk.Version + "/" + gvk.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}
