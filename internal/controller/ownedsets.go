package controller

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// OwnedSets files an informer's objects by the UID of their controller,
// holding the objects themselves. It answers what Owned answers from
// OwnerIndex, for the syncs that walk every object of one owner each time
// (a ReplicaSet of 30,000 pods): the indexer keeps only the objects' keys
// per index value and looks each one up in its store, which cost a
// ReplicaSet sync more than everything else it did with the pods.
//
// It follows the informer through the controller's event handler, so it
// holds what that handler has been told: a sync started by an event sees
// that event.
type OwnedSets[T metav1.Object] struct {
	mu      sync.RWMutex
	byOwner map[types.UID]*ownedSet[T]
	// ownerOf is the controller UID each filed object (by namespace/name
	// key) is under.
	ownerOf map[string]types.UID
}

// ownedSet is one owner's objects, with each one's position for removal.
type ownedSet[T metav1.Object] struct {
	items []T
	at    map[string]int
}

// NewOwnedSets returns empty sets. The informer's handler that enqueues
// the owners must feed them (OnAdd, OnUpdate, OnDelete) before it
// enqueues, so that a sync started by an event sees that event, as it
// would in the informer's store.
func NewOwnedSets[T metav1.Object]() *OwnedSets[T] {
	return &OwnedSets[T]{byOwner: map[types.UID]*ownedSet[T]{}, ownerOf: map[string]types.UID{}}
}

// OnAdd files an added object of type T.
func (s *OwnedSets[T]) OnAdd(obj any) {
	if t, ok := obj.(T); ok {
		s.put(t)
	}
}

// OnUpdate files the new version of an object.
func (s *OwnedSets[T]) OnUpdate(_, obj any) { s.OnAdd(obj) }

// OnDelete unfiles a deleted object (or tombstone).
func (s *OwnedSets[T]) OnDelete(obj any) {
	if t, ok := As[T](obj); ok {
		s.remove(objectKey(t))
	}
}

// Owned returns the objects whose controller has uid, in no particular
// order; they belong to the cache and must not be mutated.
func (s *OwnedSets[T]) Owned(uid types.UID) []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if set := s.byOwner[uid]; set != nil {
		return append([]T(nil), set.items...)
	}
	return nil
}

// put files obj under its controller, replacing the version filed before.
func (s *OwnedSets[T]) put(obj T) {
	key := objectKey(obj)
	var owner types.UID
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		owner = ref.UID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.ownerOf[key]; ok && prev != owner {
		s.removeLocked(key)
	}
	if owner == "" {
		return // orphans are found through OwnerIndex
	}
	set := s.byOwner[owner]
	if set == nil {
		set = &ownedSet[T]{at: map[string]int{}}
		s.byOwner[owner] = set
	}
	if i, ok := set.at[key]; ok {
		set.items[i] = obj
		return
	}
	set.at[key] = len(set.items)
	set.items = append(set.items, obj)
	s.ownerOf[key] = owner
}

func (s *OwnedSets[T]) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(key)
}

// removeLocked unfiles the object filed under key, moving its owner's
// last object into its place.
func (s *OwnedSets[T]) removeLocked(key string) {
	owner, ok := s.ownerOf[key]
	if !ok {
		return
	}
	delete(s.ownerOf, key)
	set := s.byOwner[owner]
	i := set.at[key]
	last := len(set.items) - 1
	if i != last {
		moved := set.items[last]
		set.items[i] = moved
		set.at[objectKey(moved)] = i
	}
	var zero T
	set.items[last] = zero
	set.items = set.items[:last]
	delete(set.at, key)
	if len(set.items) == 0 {
		delete(s.byOwner, owner)
	}
}

// objectKey is obj's namespace/name, the informer's key for it.
func objectKey(obj metav1.Object) string { return cache.MetaObjectToName(obj).String() }
