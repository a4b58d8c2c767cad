package endpoints

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/apiserver/treeequal"
)

// maxUpdateManagers is how many Update entries the field manager keeps
// before it merges the oldest (apimachinery's DefaultMaxUpdateManagers).
const maxUpdateManagers = 10

// entryKey names the managedFields entry an update by a manager records
// into: the served version and the subresource written.
type entryKey struct {
	apiVersion, subresource string
}

// ownedScalarUpdate is what the field manager records for the commonest
// write of a running cluster, a node renewing its Lease: an update that
// changes only scalar fields its manager's entry already owns and no
// other entry does. The manager would find those fields changed, find
// nobody to take them from, and keep its entry's fields as they are; all
// that changes is the entry's time (and so, perhaps, its place in the
// list). An update that changes nothing keeps managedFields as they are.
// ok is false for any other update, which the field manager records.
func ownedScalarUpdate(live, obj runtime.Object, manager string, key entryKey) (entries []metav1.ManagedFieldsEntry, ok bool) {
	l, o, current, ok := updatedStructs(live, obj)
	if !ok {
		return nil, false
	}
	changed, ok := changedScalars(l, o)
	if !ok {
		return nil, false
	}
	if len(changed) == 0 {
		entries = slices.Clone(current)
		sortManagedFields(entries) // the field manager writes them anew, in order
		return entries, true
	}
	mine, updates := -1, 0
	for i, e := range current {
		if e.Operation == metav1.ManagedFieldsOperationUpdate {
			updates++
		}
		if e.FieldsType != "FieldsV1" || e.FieldsV1 == nil || checkFieldsJSON(e.FieldsV1.GetRawString()) != nil {
			return nil, false
		}
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationUpdate &&
			e.APIVersion == key.apiVersion && e.Subresource == key.subresource {
			mine = i
		}
	}
	if mine < 0 || updates > maxUpdateManagers {
		return nil, false
	}
	for _, path := range changed {
		for i, e := range current {
			has, err := ownsField(e.FieldsV1.GetRawString(), path)
			if err != nil || has != (i == mine) {
				return nil, false
			}
		}
	}
	entries = slices.Clone(current)
	entries[mine].Time = &metav1.Time{Time: time.Now().UTC()}
	sortManagedFields(entries)
	return entries, true
}

// updatedStructs returns the structs live and obj point to and live's
// managedFields, if the two are of one type and obj carries the same
// managedFields or none: a client that sends managedFields other than the
// stored ones sets them (the field manager's to record); one that sends
// none keeps them.
func updatedStructs(live, obj runtime.Object) (l, o reflect.Value, current []metav1.ManagedFieldsEntry, ok bool) {
	liveMeta, lok := live.(metav1.Object)
	objMeta, ook := obj.(metav1.Object)
	l, o = reflect.ValueOf(live), reflect.ValueOf(obj)
	if !lok || !ook || l.Type() != o.Type() || l.Kind() != reflect.Pointer || l.Elem().Kind() != reflect.Struct {
		return l, o, nil, false
	}
	current = liveMeta.GetManagedFields()
	if sent := objMeta.GetManagedFields(); len(sent) > 0 && !treeequal.Equal(sent, current) {
		return l, o, nil, false
	}
	return l.Elem(), o.Elem(), current, true
}

// changedScalars returns the paths of the fields in which structs l and o
// differ, if each is a scalar that o holds, directly in the object or in
// one of its top-level structs (spec.renewTime); ok is false if anything
// else differs, metadata included (managedFields aside). The fields are
// compared last first: a status write, which is no scalar update, then
// fails on the status before walking the equal spec and metadata.
func changedScalars(l, o reflect.Value) (paths [][]string, ok bool) {
	t := l.Type()
	for i := t.NumField() - 1; i >= 0; i-- {
		f := t.Field(i)
		lf, of := l.Field(i), o.Field(i)
		switch {
		case !f.IsExported() || treeequal.Values(lf, of):
			continue
		case f.Type == objectMetaType:
			if !sameMetadata(lf, of) {
				return nil, false
			}
			continue
		case f.Anonymous:
			return nil, false // TypeMeta: the object's kind is not the client's to change
		}
		name, omitEmpty, named := jsonName(f)
		if !named {
			return nil, false
		}
		if isScalar(f.Type) {
			if !present(of, omitEmpty) {
				return nil, false
			}
			paths = append(paths, []string{name})
			continue
		}
		if f.Type.Kind() != reflect.Struct {
			return nil, false
		}
		for j := range f.Type.NumField() {
			g := f.Type.Field(j)
			lg, og := lf.Field(j), of.Field(j)
			if !g.IsExported() || treeequal.Values(lg, og) {
				continue
			}
			sub, subOmitEmpty, subNamed := jsonName(g)
			if !subNamed || g.Anonymous || !isScalar(g.Type) || !present(og, subOmitEmpty) {
				return nil, false
			}
			paths = append(paths, []string{name, sub})
		}
	}
	return paths, true
}

// sameMetadata reports whether ObjectMetas l and o are equal but for
// managedFields.
func sameMetadata(l, o reflect.Value) bool {
	for i := range l.NumField() {
		if i != managedFieldsIndex && !treeequal.Values(l.Field(i), o.Field(i)) {
			return false
		}
	}
	return true
}

var managedFieldsIndex = func() int {
	f, _ := objectMetaType.FieldByName("ManagedFields")
	return f.Index[0]
}()

// scalarStructs are the structs the API serializes as strings.
var scalarStructs = map[reflect.Type]bool{timeType: true, microTimeType: true, reflect.TypeFor[resource.Quantity](): true}

// isScalar reports whether the field manager tracks values of type t as
// one field: basic values and the API's string-encoded structs, or
// pointers to them.
func isScalar(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return scalarStructs[t]
}

// present reports whether a field holding v appears in the object's
// serialization, where the field manager sees it.
func present(v reflect.Value, omitEmpty bool) bool {
	if v.Kind() == reflect.Pointer {
		return !v.IsNil()
	}
	if !omitEmpty {
		return true
	}
	if t, ok := v.Interface().(metav1.Time); ok {
		return !t.IsZero()
	}
	if t, ok := v.Interface().(metav1.MicroTime); ok {
		return !t.IsZero()
	}
	return !v.IsZero()
}

// jsonName is a field's name in JSON and whether it is omitted when
// empty; named is false for fields without a plain name.
func jsonName(f reflect.StructField) (name string, omitEmpty, named bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" || name == "-" {
		return "", false, false
	}
	return name, slices.Contains(strings.Split(opts, ","), "omitempty"), true
}

// sortManagedFields orders entries as the field manager does when it
// writes them: by operation, then time (to the second), manager,
// apiVersion and subresource.
func sortManagedFields(entries []metav1.ManagedFieldsEntry) {
	seconds := func(t *metav1.Time) int64 {
		if t == nil {
			return 0
		}
		return t.Unix()
	}
	slices.SortFunc(entries, func(p, q metav1.ManagedFieldsEntry) int {
		switch {
		case p.Operation != q.Operation:
			return strings.Compare(string(p.Operation), string(q.Operation))
		case seconds(p.Time) != seconds(q.Time):
			return int(seconds(p.Time) - seconds(q.Time))
		case p.Manager != q.Manager:
			return strings.Compare(p.Manager, q.Manager)
		case p.APIVersion != q.APIVersion:
			return strings.Compare(p.APIVersion, q.APIVersion)
		}
		return strings.Compare(p.Subresource, q.Subresource)
	})
}
