package endpoints

import (
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/apiserver/treeequal"
)

// updateManagedFields records manager's change from live to obj in obj's
// managedFields; key names the entry such a change records into.
//
// The field manager learns what changed by walking both objects whole, and
// that walk is most of its cost; a status write walks the spec, a bind the
// containers, a lease renewal its holder. A change of scalar fields its
// manager alone owns already needs no walk (see ownedScalarUpdate), and a
// change nobody else owns any part of needs no look at the other entries
// (see soleOwnerUpdate). For the rest, parts the two objects hold equal cannot change anyone's
// fields, so the manager is shown copies without them (see
// withoutEqualParts) and its managedFields are carried back to obj. It
// only reads the objects' metadata and those differences.
func updateManagedFields(k *kindFields, live, obj runtime.Object, manager string, key entryKey) runtime.Object {
	fm := k.manager
	objMeta, err := meta.Accessor(obj)
	if err == nil {
		entries, ok := ownedScalarUpdate(live, obj, manager, key)
		if !ok {
			entries, ok = k.sole.soleOwnerUpdate(live, obj, manager, key)
		}
		if ok {
			objMeta.SetManagedFields(entries)
			return obj
		}
	}
	liveView, objView, pruned := withoutEqualParts(live, obj)
	if err != nil || !pruned {
		return fm.UpdateNoErrors(live, obj, manager)
	}
	out, err := meta.Accessor(fm.UpdateNoErrors(liveView, objView, manager))
	if err != nil { // not reached: the view is of obj's type
		return fm.UpdateNoErrors(live, obj, manager)
	}
	objMeta.SetManagedFields(out.GetManagedFields())
	return obj
}

// withoutEqualParts returns shallow copies of live and obj (pointers to
// structs of one type) with the top-level fields they hold deeply equal
// cleared in both, and within the top-level structs that differ (a spec,
// a status, the metadata), their fields held equal. Of the metadata, the
// field manager reads managedFields and annotations (last-applied) for
// themselves, and the name in what it logs: those are kept. pruned is
// false when nothing was cleared, or the objects are not typed structs.
func withoutEqualParts(live, obj runtime.Object) (liveView, objView runtime.Object, pruned bool) {
	l, o := reflect.ValueOf(live), reflect.ValueOf(obj)
	if l.Type() != o.Type() || l.Kind() != reflect.Pointer || l.IsNil() || o.IsNil() || l.Elem().Kind() != reflect.Struct {
		return live, obj, false
	}
	lc, oc := reflect.New(l.Type().Elem()), reflect.New(o.Type().Elem())
	lc.Elem().Set(l.Elem())
	oc.Elem().Set(o.Elem())
	if !clearEqualFields(lc.Elem(), oc.Elem(), true) {
		return live, obj, false
	}
	liveView, lok := lc.Interface().(runtime.Object)
	objView, ook := oc.Interface().(runtime.Object)
	if !lok || !ook {
		return live, obj, false
	}
	return liveView, objView, true
}

var objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()

// keptMetadata are the ObjectMeta fields withoutEqualParts leaves alone.
var keptMetadata = map[string]bool{"Name": true, "Namespace": true, "Annotations": true, "ManagedFields": true}

// clearEqualFields zeroes the exported fields of structs l and o (the
// copies' own memory) that are deeply equal, descending one level into the
// struct fields that are not when top is set, and reports whether it
// cleared any.
func clearEqualFields(l, o reflect.Value, top bool) bool {
	cleared := false
	t := l.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		lf, of := l.Field(i), o.Field(i)
		if top && f.Type == objectMetaType { // never cleared whole: see keptMetadata
			if clearEqualFields(lf, of, false) {
				cleared = true
			}
			continue
		}
		if !f.IsExported() || (top && f.Anonymous) || (t == objectMetaType && keptMetadata[f.Name]) {
			continue
		}
		if lf.IsZero() && of.IsZero() {
			continue
		}
		if treeequal.Values(lf, of) {
			lf.SetZero()
			of.SetZero()
			cleared = true
			continue
		}
		if top && lf.Kind() == reflect.Struct && clearEqualFields(lf, of, false) {
			cleared = true
		}
	}
	return cleared
}
