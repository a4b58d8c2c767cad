package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// OwnerIndex names the index, shared by the workload controllers, that
// files objects by the UID of their controller, and objects without one
// under OrphanKey(namespace). With it a sync touches only the objects it
// owns or may adopt instead of scanning a whole namespace, which matters at
// tens of thousands of pods.
const OwnerIndex = "tug/controllerUID"

// OrphanKey is the OwnerIndex value of objects in namespace that have no
// controller.
func OrphanKey(namespace string) string { return "orphan/" + namespace }

// indexByOwner is the OwnerIndex function.
func indexByOwner(obj any) ([]string, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(accessor); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return []string{OrphanKey(accessor.GetNamespace())}, nil
}

// EnsureOwnerIndex adds OwnerIndex to each informer unless another
// controller already did; it must run before the informers start.
func EnsureOwnerIndex(informers ...cache.SharedIndexInformer) error {
	for _, informer := range informers {
		if _, ok := informer.GetIndexer().GetIndexers()[OwnerIndex]; ok {
			continue
		}
		if err := informer.AddIndexers(cache.Indexers{OwnerIndex: indexByOwner}); err != nil {
			return fmt.Errorf("add owner index: %w", err)
		}
	}
	return nil
}

// ByIndex returns the objects of type T filed under value in index; they
// belong to the cache and must not be mutated.
func ByIndex[T any](indexer cache.Indexer, index, value string) []T {
	objs, err := indexer.ByIndex(index, value)
	if err != nil {
		return nil // only an unknown index fails, and the owner added it
	}
	out := make([]T, 0, len(objs))
	for _, obj := range objs {
		if t, ok := obj.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Owned returns the objects of type T whose controller has uid.
func Owned[T any](indexer cache.Indexer, uid types.UID) []T {
	return ByIndex[T](indexer, OwnerIndex, string(uid))
}

// OwnedIn returns the objects of type T filed under uid in index that are
// in namespace: a controller reference cannot cross namespaces, so one
// naming an owner elsewhere is not followed.
func OwnedIn[T metav1.Object](indexer cache.Indexer, index string, uid types.UID, namespace string) []T {
	all := ByIndex[T](indexer, index, string(uid))
	out := all[:0]
	for _, obj := range all {
		if obj.GetNamespace() == namespace {
			out = append(out, obj)
		}
	}
	return out
}

// RefOfKind returns obj's controller reference when it names kind gvk
// at exactly gvk's group and version, else nil.
func RefOfKind(obj metav1.Object, gvk schema.GroupVersionKind) *metav1.OwnerReference {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return nil
	}
	return ref
}

// RefOfGroupKind returns obj's controller reference when it names
// kind gk in any version of gk's group, else nil.
func RefOfGroupKind(obj metav1.Object, gk schema.GroupKind) *metav1.OwnerReference {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != gk.Kind {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != gk.Group {
		return nil
	}
	return ref
}

// IndexByRefOfGroupKind returns an index function filing objects
// by the UID of their controller when that is of kind gk; other objects
// are not indexed.
func IndexByRefOfGroupKind(gk schema.GroupKind) cache.IndexFunc {
	return func(obj any) ([]string, error) {
		accessor, err := meta.Accessor(obj)
		if err != nil {
			return nil, nil
		}
		if ref := RefOfGroupKind(accessor, gk); ref != nil {
			return []string{string(ref.UID)}, nil
		}
		return nil, nil
	}
}

// ResolveRef returns the key of the object of kind gvk that ref names in
// namespace, or "" when ref names another kind, or get does not find the
// object or finds one with another UID (it was replaced).
func ResolveRef[T metav1.Object](namespace string, ref *metav1.OwnerReference, gvk schema.GroupVersionKind,
	get func(namespace, name string) (T, error)) string {
	if ref == nil || ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return ""
	}
	obj, err := get(namespace, ref.Name)
	if err != nil || obj.GetUID() != ref.UID {
		return ""
	}
	return namespace + "/" + ref.Name
}
