// Package sharing lets the objects a watch cache holds share the parts
// they have in common: the pods of one ReplicaSet carry the same labels,
// owner reference, containers, volumes and scheduling constraints, and
// without sharing the cache would hold a decoded copy of each per pod —
// most of a pod's memory.
//
// Sharing relies on the cache's contract that its objects are never
// mutated: a shared part is reachable from many objects, and whoever
// changes an object changes a deep copy. With CheckEnv set, every reuse
// of a shared part first checks that it still encodes as it did.
package sharing

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// CheckEnv names the environment variable that, set to "true", makes
// reuse of a shared part that was changed since it was shared panic, as
// client-go's KUBE_CACHE_MUTATION_DETECTOR does for informer caches.
// scripts/test.sh sets it; it costs an encoding per reuse.
const CheckEnv = "TUG_CHECK_SHARED_PARTS"

var checkShared = os.Getenv(CheckEnv) == "true"

// maxEntries bounds each table of shared parts. A full table starts over:
// parts shared so far stay shared, and the next of each is shared from
// then on; so a table keeps at most this many parts alive that no cached
// object uses any more.
const maxEntries = 1024

// Func replaces parts of obj, which its caller owns and has not yet
// published, with equal parts of objects it was given before.
type Func func(obj runtime.Object)

// New returns a sharing function with tables of its own, for the objects
// of one resource: metadata for every kind, and for pods their spec too.
func New() Func {
	s := &sharer{
		labels:        newTable("labels", stringMapKey),
		annotations:   newTable("annotations", stringMapKey),
		owners:        newTable("ownerReferences", protosKey[metav1.OwnerReference]),
		managedFields: newTable("managedFields", protosKey[metav1.ManagedFieldsEntry]),
		pods:          newPodTables(),
	}
	return s.share
}

// sharer holds the shared parts seen so far. A watch cache calls it from
// its one watch goroutine; the mutex keeps it safe for any caller.
type sharer struct {
	mu  sync.Mutex
	key keyBuilder

	labels, annotations *table[map[string]string]
	owners              *table[[]metav1.OwnerReference]
	managedFields       *table[[]metav1.ManagedFieldsEntry]
	pods                podTables
}

func (s *sharer) share(obj runtime.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, err := meta.Accessor(obj); err == nil {
		s.shareMeta(m)
	}
	s.sharePod(obj)
}

// shareMeta shares the parts of metadata that objects made from one
// template have in common.
func (s *sharer) shareMeta(m metav1.Object) {
	if l := m.GetLabels(); len(l) > 0 {
		m.SetLabels(s.labels.share(&s.key, l))
	}
	if a := m.GetAnnotations(); len(a) > 0 {
		m.SetAnnotations(s.annotations.share(&s.key, a))
	}
	if o := m.GetOwnerReferences(); len(o) > 0 {
		m.SetOwnerReferences(s.owners.share(&s.key, o))
	}
	if f := m.GetManagedFields(); len(f) > 0 {
		m.SetManagedFields(s.managedFields.share(&s.key, f))
	}
}

// table maps the encoding of a part to the part shared for it.
type table[T any] struct {
	name    string
	encode  func(*keyBuilder, T) ([]byte, bool)
	entries map[string]T
}

func newTable[T any](name string, encode func(*keyBuilder, T) ([]byte, bool)) *table[T] {
	return &table[T]{name: name, encode: encode}
}

// share returns the part shared for v's encoding, making v that part if
// there is none.
func (t *table[T]) share(k *keyBuilder, v T) T {
	key, ok := t.encode(k, v)
	if !ok {
		return v
	}
	if shared, ok := t.get(k, key); ok {
		return shared
	}
	t.add(string(key), v)
	return v
}

// get returns the part shared for key, which k holds.
func (t *table[T]) get(k *keyBuilder, key []byte) (T, bool) {
	shared, ok := t.entries[string(key)]
	if ok && checkShared {
		t.check(k, string(key), shared)
	}
	return shared, ok
}

// add makes v the part shared for key.
func (t *table[T]) add(key string, v T) {
	if t.entries == nil || len(t.entries) >= maxEntries {
		t.entries = make(map[string]T, 64)
	}
	t.entries[key] = v
}

// check panics if shared no longer encodes as key: someone changed an
// object of the cache in place, and so every object sharing the part.
func (t *table[T]) check(k *keyBuilder, key string, shared T) {
	if now, ok := t.encode(k, shared); !ok || string(now) != key {
		panic(fmt.Sprintf("sharing: a shared %s part of cached objects was changed in place; cached objects must not be mutated", t.name))
	}
}

// marshaler is what the generated protobuf code of API types provides.
type marshaler interface {
	Size() int
	MarshalToSizedBuffer(data []byte) (int, error)
}

// keyBuilder encodes parts into one reused buffer. Objects in a cache
// were all decoded from their stored protobuf, so parts with equal
// encodings decode to equal values.
type keyBuilder struct {
	buf  []byte
	keys []string // stringMapKey's sorted keys
}

// protoKey is the protobuf encoding of *p.
func protoKey[T any, P interface {
	*T
	marshaler
}](k *keyBuilder, v T) ([]byte, bool) {
	k.buf = k.buf[:0]
	ok := k.appendProto(P(&v))
	return k.buf, ok
}

// protosKey is the length-prefixed protobuf encodings of a list.
func protosKey[T any, P interface {
	*T
	marshaler
}](k *keyBuilder, list []T) ([]byte, bool) {
	k.buf = k.buf[:0]
	for i := range list {
		m := P(&list[i])
		k.buf = binary.AppendUvarint(k.buf, uint64(m.Size()))
		if !k.appendProto(m) {
			return nil, false
		}
	}
	return k.buf, true
}

func (k *keyBuilder) appendProto(m marshaler) bool {
	n := m.Size()
	start := len(k.buf)
	k.buf = slices.Grow(k.buf, n)[:start+n]
	written, err := m.MarshalToSizedBuffer(k.buf[start:])
	return err == nil && written == n
}

// stringMapKey is a length-prefixed encoding of m's entries in key order.
func stringMapKey(k *keyBuilder, m map[string]string) ([]byte, bool) {
	k.keys = k.keys[:0]
	for key := range m {
		k.keys = append(k.keys, key)
	}
	slices.Sort(k.keys)
	k.buf = k.buf[:0]
	for _, key := range k.keys {
		k.buf = binary.AppendUvarint(k.buf, uint64(len(key)))
		k.buf = append(k.buf, key...)
		k.buf = binary.AppendUvarint(k.buf, uint64(len(m[key])))
		k.buf = append(k.buf, m[key]...)
	}
	return k.buf, true
}
