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
// Next to each object it keeps the facts F a sync reads of it, taken when
// the object is filed: a walk of 30,000 pods then reads one compact array
// instead of fields spread over every pod object, whose cache misses were
// most of the walk.
//
// It follows the informer through the controller's event handler, so it
// holds what that handler has been told: a sync started by an event sees
// that event.
type OwnedSets[T metav1.Object, F any] struct {
	factsOf func(T) F
	mu      sync.RWMutex
	byOwner map[types.UID]*ownedSet[T, F]
	// ownerOf is the controller UID each filed object (by namespace/name
	// key) is under.
	ownerOf map[string]types.UID
}

// OwnedObject is a filed object with the facts taken from it.
type OwnedObject[T metav1.Object, F any] struct {
	Obj   T
	Facts F
}

// ownedSet is one owner's objects, with each one's position for removal.
type ownedSet[T metav1.Object, F any] struct {
	items []OwnedObject[T, F]
	at    map[string]int
}

// NewOwnedSets returns empty sets that take factsOf each object filed. The
// informer's handler that enqueues the owners must feed them (OnAdd,
// OnUpdate, OnDelete) before it enqueues, so that a sync started by an
// event sees that event, as it would in the informer's store.
func NewOwnedSets[T metav1.Object, F any](factsOf func(T) F) *OwnedSets[T, F] {
	return &OwnedSets[T, F]{factsOf: factsOf, byOwner: map[types.UID]*ownedSet[T, F]{}, ownerOf: map[string]types.UID{}}
}

// OnAdd files an added object of type T.
func (s *OwnedSets[T, F]) OnAdd(obj any) {
	if t, ok := obj.(T); ok {
		s.put(t)
	}
}

// OnUpdate files the new version of an object.
func (s *OwnedSets[T, F]) OnUpdate(_, obj any) { s.OnAdd(obj) }

// OnDelete unfiles a deleted object (or tombstone).
func (s *OwnedSets[T, F]) OnDelete(obj any) {
	if t, ok := As[T](obj); ok {
		s.remove(objectKey(t))
	}
}

// Range calls f with each object whose controller has uid, and its
// facts, in no particular order, holding the sets' read lock: f must not
// keep the pointer or call back into the sets. The objects belong to the
// cache and must not be mutated. Walking in place, rather than returning a
// copy, spares a sync of a 30,000-pod set copying every entry (whose
// pointers cost a write barrier each while the collector runs).
func (s *OwnedSets[T, F]) Range(uid types.UID, f func(*OwnedObject[T, F])) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if set := s.byOwner[uid]; set != nil {
		for i := range set.items {
			f(&set.items[i])
		}
	}
}

// Len returns how many objects have uid as their controller.
func (s *OwnedSets[T, F]) Len(uid types.UID) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if set := s.byOwner[uid]; set != nil {
		return len(set.items)
	}
	return 0
}

// put files obj under its controller, replacing the version filed before.
func (s *OwnedSets[T, F]) put(obj T) {
	key := objectKey(obj)
	var owner types.UID
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		owner = ref.UID
	}
	var item OwnedObject[T, F]
	if owner != "" {
		item = OwnedObject[T, F]{Obj: obj, Facts: s.factsOf(obj)}
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
		set = &ownedSet[T, F]{at: map[string]int{}}
		s.byOwner[owner] = set
	}
	if i, ok := set.at[key]; ok {
		set.items[i] = item
		return
	}
	set.at[key] = len(set.items)
	set.items = append(set.items, item)
	s.ownerOf[key] = owner
}

func (s *OwnedSets[T, F]) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(key)
}

// removeLocked unfiles the object filed under key, moving its owner's
// last object into its place.
func (s *OwnedSets[T, F]) removeLocked(key string) {
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
		set.at[objectKey(moved.Obj)] = i
	}
	set.items[last] = OwnedObject[T, F]{}
	set.items = set.items[:last]
	delete(set.at, key)
	if len(set.items) == 0 {
		delete(s.byOwner, owner)
	}
}

// objectKey is obj's namespace/name, the informer's key for it.
func objectKey(obj metav1.Object) string { return cache.MetaObjectToName(obj).String() }
