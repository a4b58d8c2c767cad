package endpoints

import (
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/tugcluster/tug/internal/apiserver/treeequal"
)

// soleOwner is what soleOwnerUpdate needs of a kind: its version's schema
// (through the converter) and the fields writes through the endpoint do
// not own (resetFields).
type soleOwner struct {
	gvk       schema.GroupVersionKind
	converter managedfields.TypeConverter
	reset     fieldpath.Filter
}

// soleOwnerUpdate records manager's update from live to obj (pointers to
// structs of one type) when all that changed lies in top-level fields of
// which no other entry owns any part: a node's reports of its pods'
// status, the commonest write of a scale-up. The field manager would
// decode every entry (a pod's creator's names the whole spec), find
// nothing to take from them, and encode them all again; here the changed
// fields are compared as the field manager compares them, and only
// manager's own entry is decoded and written. ok is false for any other
// update, which the field manager records.
//
// The field manager records an update as a fresh manager owning what
// the update added or modified, taking those fields and the removed ones
// from every entry (its own previous one among them), and then merges
// the fresh set into manager's entry, stamping its time. With nobody else
// owning any of it, that comes to: manager's entry loses what was removed
// and gains what was added or modified, and is stamped if it gained.
func (k *soleOwner) soleOwnerUpdate(live, obj runtime.Object, manager string, key entryKey) (entries []metav1.ManagedFieldsEntry, ok bool) {
	if k == nil {
		return nil, false
	}
	l, o, current, ok := updatedStructs(live, obj)
	if !ok {
		return nil, false
	}
	names, ok := changedTopLevel(l, o)
	if !ok {
		return nil, false
	}
	mine, ok := soleWriter(current, names, manager, key)
	if !ok {
		return nil, false
	}
	added, removed, ok := k.compare(live, obj, l, o, names)
	if !ok {
		return nil, false
	}
	owned := fieldpath.NewSet()
	if mine >= 0 {
		if err := owned.FromJSON(strings.NewReader(current[mine].FieldsV1.GetRawString())); err != nil {
			return nil, false
		}
	}
	owned = owned.Difference(removed).Union(added)
	entries = make([]metav1.ManagedFieldsEntry, 0, len(current)+1)
	for i, e := range current {
		if i != mine {
			entries = append(entries, e)
		}
	}
	if !owned.Empty() {
		raw, err := owned.ToJSON()
		if err != nil {
			return nil, false
		}
		entry := metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: key.apiVersion, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(raw)), Subresource: key.subresource}
		switch {
		case !added.Empty():
			entry.Time = &metav1.Time{Time: time.Now().UTC()}
		case mine >= 0:
			entry.Time = current[mine].Time
		}
		entries = append(entries, entry)
	}
	sortManagedFields(entries)
	return entries, true
}

// changedTopLevel returns the JSON names of the top-level fields in which
// structs l and o differ; ok is false if none does, or their metadata
// (managedFields aside) or kind does.
func changedTopLevel(l, o reflect.Value) (names []string, ok bool) {
	t := l.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		lf, of := l.Field(i), o.Field(i)
		switch {
		case !f.IsExported() || f.Type == objectMetaType && sameMetadata(lf, of) || treeequal.Values(lf, of):
			continue
		case f.Type == objectMetaType || f.Anonymous:
			return nil, false
		}
		name, _, named := jsonName(f)
		if !named {
			return nil, false
		}
		names = append(names, name)
	}
	return names, len(names) > 0
}

// soleWriter finds manager's own entry among current (-1 if it has none)
// and checks that no other entry owns anything of the top-level fields
// names, that every entry is one the field manager would keep as it is
// (FieldsV1 of the version written, not empty), and that recording
// manager's entry keeps the Update entries within the field manager's cap.
func soleWriter(current []metav1.ManagedFieldsEntry, names []string, manager string, key entryKey) (mine int, ok bool) {
	mine, updates := -1, 0
	for i, e := range current {
		if e.FieldsType != "FieldsV1" || e.FieldsV1 == nil || e.APIVersion != key.apiVersion || e.Manager == "" {
			return -1, false
		}
		switch e.Operation {
		case metav1.ManagedFieldsOperationUpdate:
			updates++
		case metav1.ManagedFieldsOperationApply:
		default:
			return -1, false
		}
		raw := e.FieldsV1.GetRawString()
		if checkFieldsJSON(raw) != nil {
			return -1, false
		}
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationUpdate && e.Subresource == key.subresource {
			if mine >= 0 {
				return -1, false
			}
			mine = i
			continue
		}
		// The field manager drops entries left owning nothing.
		if empty, err := (&fieldsScanner{raw: raw}).emptyObject(); empty || err != nil {
			return -1, false
		}
		for _, name := range names {
			if has, err := (&fieldsScanner{raw: raw}).enter("f:" + name); has || err != nil {
				return -1, false
			}
		}
	}
	if mine < 0 {
		updates++
	}
	return mine, updates <= maxUpdateManagers
}

// compare returns the fields obj adds to or modifies in live, and the
// ones it removes, less the reset fields, as the field manager finds
// them. Only the top-level fields names differ; compareFields walks them,
// and where it gives up, structured-merge-diff compares copies of the two
// objects without their equal parts.
func (k *soleOwner) compare(live, obj runtime.Object, l, o reflect.Value, names []string) (added, removed *fieldpath.Set, ok bool) {
	cmp, ok := k.compareFast(obj, l, o, names)
	if !ok {
		liveView, objView, pruned := withoutEqualParts(live, obj)
		if !pruned {
			return nil, nil, false
		}
		liveView.GetObjectKind().SetGroupVersionKind(k.gvk)
		objView.GetObjectKind().SetGroupVersionKind(k.gvk)
		lt, err := k.converter.ObjectToTyped(liveView, typed.AllowDuplicates)
		if err != nil {
			return nil, nil, false
		}
		ot, err := k.converter.ObjectToTyped(objView, typed.AllowDuplicates)
		if err != nil {
			return nil, nil, false
		}
		if cmp, err = lt.Compare(ot); err != nil {
			return nil, nil, false
		}
	}
	if k.reset != nil {
		cmp = cmp.FilterFields(k.reset)
	}
	return cmp.Modified.Union(cmp.Added), cmp.Removed, true
}

// compareFast is compareFields on the structs l and o of objects of a
// built-in kind.
func (k *soleOwner) compareFast(obj runtime.Object, l, o reflect.Value, names []string) (*typed.Comparison, bool) {
	tc, ok := k.converter.(*trustedTypeConverter)
	if !ok {
		return nil, false
	}
	t, err := tc.schemaOf(k.gvk, obj)
	if err != nil {
		return nil, false
	}
	return compareFields(t.schema, t.typeRef, l, o, names)
}
