package endpoints

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// fieldsComparer finds the fields two Go objects of one type differ in as
// structured-merge-diff's Compare reports them (added, modified, removed),
// walking the Go values directly instead of through its reflective value
// wrappers, which allocate a path, a wrapper and a set insertion at every
// node: two thirds of the CPU of recording a node's pod status report.
//
// It keeps the field manager's view of a value exactly: a struct field
// is absent when omitempty and empty (a struct never is) or omitzero and
// zero, embedded structs without a name are inlined, a nil pointer, slice
// or map or a zero time is null, times, micro-times and quantities are
// the strings they serialize to, an int-or-string the value it holds. A
// list or map empty or null on both sides, or atomic, is one field; an
// associative list's items are named by their keys, a set's by their
// values. Anything it does not model (other custom serializations, byte
// slices, interfaces, unexported embedded structs, list items lacking a
// key or repeated, a value of another kind than its schema's) makes it
// give up, ok false, and the caller asks structured-merge-diff instead.
type fieldsComparer struct {
	schema *smdschema.Schema
	out    *typed.Comparison
}

// compareFields compares the top-level fields names (JSON names) of
// structs l and o, of the type at root in schema.
func compareFields(schema *smdschema.Schema, root smdschema.TypeRef, l, o reflect.Value, names []string) (*typed.Comparison, bool) {
	atom, found := schema.Resolve(root)
	fields := structFieldsOf(l.Type())
	if !found || atom.Map == nil || fields == nil {
		return nil, false
	}
	c := &fieldsComparer{schema: schema, out: &typed.Comparison{Added: fieldpath.NewSet(), Modified: fieldpath.NewSet(), Removed: fieldpath.NewSet()}}
	for _, name := range names {
		sf, found := atom.FindField(name)
		f := fields.byName(name)
		if !found || f == nil {
			return nil, false
		}
		lv, lok := f.get(l)
		ov, ook := f.get(o)
		if !lok && !ook {
			continue
		}
		if !c.compare(fieldpath.Path{fieldpath.PathElement{FieldName: &f.name}}, sf.Type, lv, ov, lok, ook) {
			return nil, false
		}
	}
	return c.out, true
}

// valueKind is what a Go value is to the field manager.
type valueKind int

const (
	nullValue valueKind = iota
	scalarValue
	listValue
	mapValue // a struct or a map with string keys
	unmodeled
)

var (
	intOrStringType    = reflect.TypeFor[intstr.IntOrString]()
	jsonMarshalerType  = reflect.TypeFor[json.Marshaler]()
	toUnstructuredType = reflect.TypeFor[interface{ ToUnstructured() any }]()
)

// kindOf dereferences v's pointers and says what it is.
func kindOf(v reflect.Value) (reflect.Value, valueKind) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, nullValue
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return v, scalarValue
	case reflect.Slice:
		switch {
		case v.Type().Elem().Kind() == reflect.Uint8:
			return v, unmodeled // bytes serialize as base64 strings
		case v.IsNil():
			return v, nullValue
		}
		return v, listValue
	case reflect.Map:
		switch {
		case v.Type().Key().Kind() != reflect.String:
			return v, unmodeled
		case v.IsNil():
			return v, nullValue
		}
		return v, mapValue
	case reflect.Struct:
		switch t := v.Type(); {
		case t == timeType:
			if t := v.Interface().(metav1.Time); t.IsZero() {
				return v, nullValue
			}
			return v, scalarValue
		case t == microTimeType:
			if t := v.Interface().(metav1.MicroTime); t.IsZero() {
				return v, nullValue
			}
			return v, scalarValue
		case t == quantityType:
			return v, scalarValue
		case t == intOrStringType:
			if k := v.Interface().(intstr.IntOrString).Type; k != intstr.Int && k != intstr.String {
				return v, unmodeled
			}
			return v, scalarValue
		case structFieldsOf(t) == nil:
			return v, unmodeled
		}
		return v, mapValue
	}
	return v, unmodeled
}

func customSerialized(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || pt.Implements(jsonMarshalerType) ||
		t.Implements(toUnstructuredType) || pt.Implements(toUnstructuredType)
}

// scalarOf is the value a scalar (as kindOf found it) serializes to.
func scalarOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	switch x := v.Interface().(type) {
	case metav1.Time:
		return x.UTC().Format(time.RFC3339)
	case metav1.MicroTime:
		return x.UTC().Format(metav1.RFC3339Micro)
	case resource.Quantity:
		return x.String()
	case intstr.IntOrString:
		if x.Type == intstr.Int {
			return int64(x.IntVal)
		}
		return x.StrVal
	}
	return nil
}

// compare records how the field at path, of type tr, differs between l
// and r (lok, rok: present on each side); false if it gives up.
func (c *fieldsComparer) compare(path fieldpath.Path, tr smdschema.TypeRef, l, r reflect.Value, lok, rok bool) bool {
	atom, found := c.schema.Resolve(tr)
	if !found {
		return false
	}
	var lk, rk valueKind
	if lok {
		l, lk = kindOf(l)
	}
	if rok {
		r, rk = kindOf(r)
	}
	if lok && !fits(atom, lk) || rok && !fits(atom, rk) {
		return false
	}
	var leaf, ok bool
	switch {
	case atom.Scalar != nil:
		leaf, ok = true, true
	case atom.List != nil:
		leaf, ok = c.list(path, atom.List, l, r, lok, rok, lk, rk)
	default:
		leaf, ok = c.fields(path, atom.Map, l, r, lok, rok, lk, rk)
	}
	if !ok {
		return false
	}
	switch {
	case !lok:
		c.out.Added.Insert(path)
	case !rok:
		c.out.Removed.Insert(path)
	case leaf:
		eq, ok := equalValues(l, r, lk, rk)
		if !ok {
			return false
		}
		if !eq {
			c.out.Modified.Insert(path)
		}
	}
	return true
}

// fits reports whether a value of kind k is one atom describes. Atoms of
// more than one form (untyped fields) are not modeled.
func fits(atom smdschema.Atom, k valueKind) bool {
	forms := 0
	for _, set := range []bool{atom.Scalar != nil, atom.List != nil, atom.Map != nil} {
		if set {
			forms++
		}
	}
	switch {
	case forms != 1:
		return false
	case k == nullValue:
		return true
	case k == scalarValue:
		return atom.Scalar != nil
	case k == listValue:
		return atom.List != nil
	case k == mapValue:
		return atom.Map != nil
	}
	return false
}

// list compares a list field item by item, unless it is one field (leaf).
func (c *fieldsComparer) list(path fieldpath.Path, t *smdschema.List, l, r reflect.Value, lok, rok bool, lk, rk valueKind) (leaf, ok bool) {
	llen, rlen := 0, 0
	if lok && lk == listValue {
		llen = l.Len()
	}
	if rok && rk == listValue {
		rlen = r.Len()
	}
	if t.ElementRelationship == smdschema.Atomic || llen == 0 && rlen == 0 {
		return true, true
	}
	if t.ElementRelationship != smdschema.Associative {
		return false, false
	}
	litems, ok := c.listItems(t, l, llen)
	if !ok {
		return false, false
	}
	ritems, ok := c.listItems(t, r, rlen)
	if !ok {
		return false, false
	}
	for _, li := range litems {
		j := slices.IndexFunc(ritems, func(ri listItem) bool { return ri.pe.Equals(li.pe) })
		var rv reflect.Value
		if j >= 0 {
			rv = ritems[j].v
		}
		if !c.compare(append(path, li.pe), t.ElementType, li.v, rv, true, j >= 0) {
			return false, false
		}
	}
	for _, ri := range ritems {
		if slices.ContainsFunc(litems, func(li listItem) bool { return li.pe.Equals(ri.pe) }) {
			continue
		}
		if !c.compare(append(path, ri.pe), t.ElementType, reflect.Value{}, ri.v, false, true) {
			return false, false
		}
	}
	return false, true
}

type listItem struct {
	pe fieldpath.PathElement
	v  reflect.Value
}

// listItems names the n items of associative list v by their keys (or,
// for a set, their values); it gives up on an item lacking a key and on
// repeated names.
func (c *fieldsComparer) listItems(t *smdschema.List, v reflect.Value, n int) ([]listItem, bool) {
	items := make([]listItem, 0, n)
	for i := range n {
		item, k := kindOf(v.Index(i))
		var pe fieldpath.PathElement
		switch {
		case len(t.Keys) == 0 && k == scalarValue:
			val := value.NewValueInterface(scalarOf(item))
			pe.Value = &val
		case len(t.Keys) > 0 && k == mapValue && item.Kind() == reflect.Struct:
			fields := structFieldsOf(item.Type())
			keys := make(value.FieldList, 0, len(t.Keys))
			for _, name := range t.Keys {
				f := fields.byName(name)
				if f == nil {
					return nil, false
				}
				kv, present := f.get(item)
				if !present {
					return nil, false // the schema's default would name it
				}
				kv, kk := kindOf(kv)
				if kk != scalarValue {
					return nil, false
				}
				keys = append(keys, value.Field{Name: name, Value: value.NewValueInterface(scalarOf(kv))})
			}
			keys.Sort()
			pe.Key = &keys
		default:
			return nil, false
		}
		if slices.ContainsFunc(items, func(o listItem) bool { return o.pe.Equals(pe) }) {
			return nil, false
		}
		items = append(items, listItem{pe: pe, v: item})
	}
	return items, true
}

// fields compares a struct or map field by field, unless it is one field
// (leaf): atomic, or empty or null on both sides.
func (c *fieldsComparer) fields(path fieldpath.Path, t *smdschema.Map, l, r reflect.Value, lok, rok bool, lk, rk valueKind) (leaf, ok bool) {
	lempty := !lok || lk == nullValue || isEmptyMap(l)
	rempty := !rok || rk == nullValue || isEmptyMap(r)
	if t.ElementRelationship == smdschema.Atomic || lempty && rempty {
		return true, true
	}
	fieldType := func(name string) smdschema.TypeRef {
		if sf, found := t.FindField(name); found {
			return sf.Type
		}
		return t.ElementType
	}
	// Both sides are of one Go type; a side that is empty holds no field.
	v := l
	if lempty {
		v = r
	}
	if v.Kind() == reflect.Struct {
		fields := structFieldsOf(v.Type())
		for i := range fields.list {
			f := &fields.list[i]
			var lv, rv reflect.Value
			var lok, rok bool
			if !lempty {
				lv, lok = f.get(l)
			}
			if !rempty {
				rv, rok = f.get(r)
			}
			if (lok || rok) && !c.compare(append(path, fieldpath.PathElement{FieldName: &f.name}), fieldType(f.name), lv, rv, lok, rok) {
				return false, false
			}
		}
		return false, true
	}
	lkeys := mapKeys(l, !lempty)
	rkeys := mapKeys(r, !rempty)
	for _, key := range mergedKeys(lkeys, rkeys) {
		lv, lok := mapEntry(l, !lempty, key)
		rv, rok := mapEntry(r, !rempty, key)
		if !c.compare(append(path, fieldpath.PathElement{FieldName: &key}), fieldType(key), lv, rv, lok, rok) {
			return false, false
		}
	}
	return false, true
}

// isEmptyMap reports whether a struct has no field present, or a map no
// entries.
func isEmptyMap(v reflect.Value) bool {
	if v.Kind() == reflect.Map {
		return v.Len() == 0
	}
	for _, f := range structFieldsOf(v.Type()).list {
		if _, present := f.get(v); present {
			return false
		}
	}
	return true
}

// mapKeys lists the fields present in a struct, or a map's keys.
func mapKeys(v reflect.Value, present bool) []string {
	if !present {
		return nil
	}
	var keys []string
	if v.Kind() == reflect.Map {
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		return keys
	}
	for _, f := range structFieldsOf(v.Type()).list {
		if _, ok := f.get(v); ok {
			keys = append(keys, f.name)
		}
	}
	return keys
}

func mergedKeys(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// mapEntry is a struct's field or a map's entry, and whether present.
func mapEntry(v reflect.Value, present bool, key string) (reflect.Value, bool) {
	if !present {
		return reflect.Value{}, false
	}
	if v.Kind() == reflect.Map {
		e := v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key()))
		return e, e.IsValid()
	}
	f := structFieldsOf(v.Type()).byName(key)
	if f == nil {
		return reflect.Value{}, false
	}
	return f.get(v)
}

// equalValues reports whether two values (as kindOf found them) serialize
// alike, as structured-merge-diff's equality of whole values does.
func equalValues(l, r reflect.Value, lk, rk valueKind) (equal, ok bool) {
	if lk != rk {
		return false, lk != unmodeled && rk != unmodeled
	}
	switch lk {
	case nullValue:
		return true, true
	case scalarValue:
		return scalarOf(l) == scalarOf(r), true
	case listValue:
		if l.Len() != r.Len() {
			return false, true
		}
		for i := range l.Len() {
			li, lik := kindOf(l.Index(i))
			ri, rik := kindOf(r.Index(i))
			if eq, ok := equalValues(li, ri, lik, rik); !eq || !ok {
				return false, ok
			}
		}
		return true, true
	case mapValue:
		lkeys := mapKeys(l, true)
		rkeys := mapKeys(r, true)
		if len(lkeys) != len(rkeys) || len(mergedKeys(lkeys, rkeys)) != len(lkeys) {
			return false, true
		}
		for _, key := range lkeys {
			lv, _ := mapEntry(l, true, key)
			rv, _ := mapEntry(r, true, key)
			lv, lvk := kindOf(lv)
			rv, rvk := kindOf(rv)
			if eq, ok := equalValues(lv, rv, lvk, rvk); !eq || !ok {
				return false, ok
			}
		}
		return true, true
	}
	return false, false
}

// structFields are the serialized fields of a struct type, nil if it has
// fields the comparer does not model.
type structFields struct {
	list []structField
}

type structField struct {
	name      string
	index     []int // through inlined structs
	omitEmpty bool
	omitZero  func(reflect.Value) bool
}

func (s *structFields) byName(name string) *structField {
	if s == nil {
		return nil
	}
	for i := range s.list {
		if s.list[i].name == name {
			return &s.list[i]
		}
	}
	return nil
}

// get returns the field's value in struct v and whether it is present.
func (f *structField) get(v reflect.Value) (reflect.Value, bool) {
	fv := v.FieldByIndex(f.index)
	if f.omitEmpty && emptyForOmit(fv) || f.omitZero != nil && f.omitZero(fv) {
		return fv, false
	}
	return fv, true
}

// emptyForOmit is encoding/json's emptiness, which structured-merge-diff
// follows: structs are never empty.
func emptyForOmit(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

var structFieldsCache sync.Map // reflect.Type -> *structFields (nil: unmodeled)

func structFieldsOf(t reflect.Type) *structFields {
	if cached, ok := structFieldsCache.Load(t); ok {
		return cached.(*structFields)
	}
	s := &structFields{}
	if customSerialized(t) || !s.add(t, nil) {
		s = nil
	}
	structFieldsCache.Store(t, s)
	return s
}

// add appends the fields of struct type t, found at index within the
// outer struct, flattening the embedded structs that have no name (as
// structured-merge-diff and encoding/json inline them); false if a field
// is not modeled.
func (s *structFields) add(t reflect.Type, index []int) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case !f.IsExported() && !f.Anonymous:
			continue
		case !f.IsExported():
			return false // values read through it could not be asked for their own serialization
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		options := strings.Split(opts, ",")
		at := append(slices.Clip(index), i)
		switch {
		case f.Anonymous && name == "":
			if f.Type.Kind() != reflect.Struct || !s.add(f.Type, at) {
				return false
			}
			continue
		case name == "":
			return false // named after the Go field: not in the API's types
		}
		field := structField{name: name, index: at, omitEmpty: slices.Contains(options, "omitempty")}
		if slices.Contains(options, "omitzero") {
			if field.omitZero = omitZeroFunc(f.Type); field.omitZero == nil {
				return false
			}
		}
		if s.byName(name) != nil {
			return false // shadowed fields: not in the API's types
		}
		s.list = append(s.list, field)
	}
	return true
}

// isZeroer is the method omitzero consults where a type has it.
type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// omitZeroFunc reports whether a field of type t tagged omitzero is
// omitted: its IsZero method says so, or it is Go's zero value; nil for
// interfaces, which are not modeled.
func omitZeroFunc(t reflect.Type) func(reflect.Value) bool {
	switch {
	case t.Kind() == reflect.Interface:
		return nil
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.IsNil() || v.Interface().(isZeroer).IsZero() }
	case t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.Interface().(isZeroer).IsZero() }
	case reflect.PointerTo(t).Implements(isZeroerType):
		return func(v reflect.Value) bool {
			boxed := reflect.New(t)
			boxed.Elem().Set(v)
			return boxed.Interface().(isZeroer).IsZero()
		}
	}
	return reflect.Value.IsZero
}
