package replicaset

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// EnsureOwnerIndex adds OwnerIndex to informer unless another controller
// already did; it must run before the informer starts.
func EnsureOwnerIndex(informer cache.SharedIndexInformer) error {
	if _, ok := informer.GetIndexer().GetIndexers()[OwnerIndex]; ok {
		return nil
	}
	if err := informer.AddIndexers(cache.Indexers{OwnerIndex: indexByOwner}); err != nil {
		return fmt.Errorf("add owner index: %w", err)
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
