package customresources

import (
	"context"
	"fmt"
	"maps"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/convert"
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/apiserver/watchcache"
	"github.com/tugcluster/tug/internal/storage"
)

// serving is what serves one CRD: a watch cache over its objects, stored
// as the storage version, and a registry store per served version that
// converts to and from it. Conversion is upstream's None strategy: only
// apiVersion changes.
type serving struct {
	crd        *apiextensionsv1.CustomResourceDefinition
	generation int64
	cache      *watchcache.Cache
	stop       context.CancelFunc
	// stores by version; versions lists the served ones in the CRD's order.
	stores   map[string]*registry.Store
	versions []string
	// storageStore reads and deletes every object, whatever version is
	// served (cleanup on CRD deletion).
	storageStore *registry.Store
}

// newServing builds the stores of crd and starts its watch cache, which
// runs until ctx ends or stop is called.
func newServing(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition, backend storage.Backend,
	newSchema func(*apiextensionsv1.JSONSchemaProps) (Schema, error)) (*serving, error) {
	storageVersion := ""
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			storageVersion = v.Name
		}
	}
	if storageVersion == "" {
		return nil, fmt.Errorf("custom resource definition %s has no storage version", crd.Name)
	}
	names := acceptedNames(crd.Spec.Names)
	group := crd.Spec.Group
	storedGV := schema.GroupVersion{Group: group, Version: storageVersion}
	newStored := newObjectFunc(storedGV.WithKind(names.Kind))
	newStoredList := newListFunc(storedGV.WithKind(names.ListKind))
	s := &serving{crd: crd, generation: crd.Generation, stores: map[string]*registry.Store{}}
	prefix := "/registry/" + group + "/" + names.Plural + "/"
	s.cache = watchcache.New(watchcache.Config{
		Storage:     storage.NewStore(backend, storage.Config{Codec: unstructured.UnstructuredJSONScheme, NewFunc: newStored}),
		Backend:     backend,
		Prefix:      prefix,
		NewFunc:     newStored,
		NewListFunc: newStoredList,
	})
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if !v.Served && !v.Storage {
			continue
		}
		var props *apiextensionsv1.JSONSchemaProps
		if v.Schema != nil {
			props = v.Schema.OpenAPIV3Schema
		}
		sch, err := newSchema(props)
		if err != nil {
			return nil, fmt.Errorf("schema of %s version %s: %w", crd.Name, v.Name, err)
		}
		res := resourceOf(crd, names, v, storedGV.WithKind(names.Kind))
		gv := res.GVR.GroupVersion()
		store := &registry.Store{
			Resource: res,
			Strategy: strategy{
				DefaultStrategy: registry.DefaultStrategy{HasStatus: v.Subresources != nil && v.Subresources.Status != nil,
					ClusterScoped: !res.Namespaced},
				schema:     sch,
				selectable: selectablePaths(v.SelectableFields),
			},
			Storage: convert.New(s.cache, convert.Funcs{
				ToStored:      withAPIVersion(storedGV, nil),
				FromStored:    withAPIVersion(gv, sch),
				NewStored:     newStored,
				NewStoredList: newStoredList,
			}),
		}
		if v.Name == storageVersion {
			s.storageStore = store
		}
		if v.Served {
			s.stores[v.Name] = store
			s.versions = append(s.versions, v.Name)
		}
	}
	cacheCtx, cancel := context.WithCancel(ctx)
	s.stop = cancel
	go s.cache.Run(cacheCtx)
	return s, nil
}

// resourceOf describes one version of crd, whose names (defaulted) are
// names and whose objects are stored as storedAs, as a served resource.
func resourceOf(crd *apiextensionsv1.CustomResourceDefinition, names apiextensionsv1.CustomResourceDefinitionNames,
	v *apiextensionsv1.CustomResourceDefinitionVersion, storedAs schema.GroupVersionKind) *resources.Resource {
	gv := schema.GroupVersion{Group: crd.Spec.Group, Version: v.Name}
	res := &resources.Resource{
		GVR:            gv.WithResource(names.Plural),
		Kind:           names.Kind,
		ListKind:       names.ListKind,
		SingularName:   names.Singular,
		StorageVersion: storedAs,
		Namespaced:     crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		ShortNames:     names.ShortNames,
		Categories:     names.Categories,
		Verbs:          resources.VerbsCRUD,
		New:            newObjectFunc(gv.WithKind(names.Kind)),
		NewList:        newListFunc(gv.WithKind(names.ListKind)),
		Custom:         true,
	}
	if sub := v.Subresources; sub != nil {
		if sub.Scale != nil {
			res.Scale = &resources.ScalePaths{SpecReplicas: sub.Scale.SpecReplicasPath, StatusReplicas: sub.Scale.StatusReplicasPath}
			if sub.Scale.LabelSelectorPath != nil {
				res.Scale.LabelSelector = *sub.Scale.LabelSelectorPath
			}
			res.Subresources = append(res.Subresources, resources.Subresource{Name: "scale",
				GVK: schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: resources.VerbsStatus})
		}
		if sub.Status != nil {
			res.Subresources = append(res.Subresources, resources.Subresource{Name: "status", Verbs: resources.VerbsStatus})
		}
	}
	return res
}

// selectablePaths are the JSON paths of selectable fields without their
// leading dot, as field selectors name them.
func selectablePaths(fields []apiextensionsv1.SelectableField) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = strings.TrimPrefix(f.JSONPath, ".")
	}
	return out
}

func newObjectFunc(gvk schema.GroupVersionKind) func() runtime.Object {
	return func() runtime.Object {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		u.SetGroupVersionKind(gvk)
		return u
	}
}

func newListFunc(gvk schema.GroupVersionKind) func() runtime.Object {
	return func() runtime.Object {
		l := &unstructured.UnstructuredList{Object: map[string]any{}}
		l.SetGroupVersionKind(gvk)
		return l
	}
}

// withAPIVersion returns a conversion to gv: a copy of the object with
// gv's apiVersion, and sch's defaults when sch is set (reads apply the
// defaults of the schema served now to objects stored before it had
// them, as upstream does). Cached objects are shared, hence the copy.
func withAPIVersion(gv schema.GroupVersion, sch Schema) func(runtime.Object) (runtime.Object, error) {
	apiVersion := gv.String()
	return func(obj runtime.Object) (runtime.Object, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("custom resource is a %T", obj)
		}
		var out *unstructured.Unstructured
		if sch != nil {
			out = u.DeepCopy()
			sch.Default(out.Object)
		} else {
			out = &unstructured.Unstructured{Object: maps.Clone(u.Object)}
		}
		out.SetAPIVersion(apiVersion)
		return out, nil
	}
}
