package endpoints

import (
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
)

// maxCreatedFields bounds createdFields; past it the memo starts afresh.
const maxCreatedFields = 256

// createdFields remembers the managedFields the field manager recorded for
// recent creates. Creates of one kind repeat: a ReplicaSet's or a Job's
// pods differ only in their names, Events in their values, and walking the
// whole new object to learn its fields was nearly half of a pod create's
// cost.
//
// What a create records is a function of the object's fields (not of most
// of their values: see appendShape), less the identity fields the field
// manager strips from every record (name, namespace, uid, resourceVersion,
// creationTimestamp, generation, selfLink), of the manager and of the field
// manager (kind and subresource); only its time is of the moment. The memo
// is keyed by exactly that: an encoding of the object's shape without those
// fields, so that pods whose labels differ in value, or the scheduler's
// Events, share a record too. Objects that arrive with
// managedFields of their own, or whose shape cannot be taken or encoded,
// take the field manager's path every time.
type createdFields struct {
	mu   sync.Mutex
	memo map[createdFieldsKey][]metav1.ManagedFieldsEntry
}

type createdFieldsKey struct {
	fm      *managedfields.FieldManager
	manager string
	object  string
}

// track records manager's create of obj in obj's managedFields, as
// fm.UpdateNoErrors(empty, obj, manager) does.
func (c *createdFields) track(fm *managedfields.FieldManager, empty, obj runtime.Object, manager string) runtime.Object {
	key, objMeta, ok := createdFieldsKeyOf(fm, obj, manager)
	if !ok {
		return fm.UpdateNoErrors(empty, obj, manager)
	}
	c.mu.Lock()
	entries, hit := c.memo[key]
	c.mu.Unlock()
	if hit {
		now := time.Now().UTC()
		fields := make([]metav1.ManagedFieldsEntry, len(entries))
		for i := range entries {
			entries[i].DeepCopyInto(&fields[i])
			fields[i].Time = &metav1.Time{Time: now}
		}
		objMeta.SetManagedFields(fields)
		return obj
	}
	out := fm.UpdateNoErrors(empty, obj, manager)
	outMeta, err := meta.Accessor(out)
	if err != nil || len(outMeta.GetManagedFields()) == 0 {
		return out // nothing recorded, or a failure: not worth remembering
	}
	recorded := make([]metav1.ManagedFieldsEntry, len(outMeta.GetManagedFields()))
	for i, e := range outMeta.GetManagedFields() {
		e.DeepCopyInto(&recorded[i])
	}
	c.mu.Lock()
	if c.memo == nil || len(c.memo) >= maxCreatedFields {
		c.memo = map[createdFieldsKey][]metav1.ManagedFieldsEntry{}
	}
	c.memo[key] = recorded
	c.mu.Unlock()
	return out
}

// createdFieldsKeyOf is obj's memo key, and obj's metadata; ok is false
// for objects the memo does not serve.
func createdFieldsKeyOf(fm *managedfields.FieldManager, obj runtime.Object, manager string) (key createdFieldsKey, objMeta metav1.Object, ok bool) {
	objMeta, err := meta.Accessor(obj)
	if err != nil || len(objMeta.GetManagedFields()) > 0 {
		return key, nil, false
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return key, nil, false
	}
	data, ok := appendShape(make([]byte, 0, 256), v.Elem(), true)
	if !ok {
		return key, nil, false
	}
	return createdFieldsKey{fm: fm, manager: manager, object: string(data)}, objMeta, true
}
