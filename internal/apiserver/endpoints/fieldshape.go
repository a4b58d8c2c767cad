package endpoints

import (
	"cmp"
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// appendShape appends to buf an encoding of v's shape: what decides the
// fields the field manager records for an object holding v, and nothing
// that does not, so that objects differing only in other values encode
// alike. top is true for the object itself, whose identity fields (name,
// namespace, uid, resourceVersion, creationTimestamp, generation,
// selfLink) the field manager strips from every record.
//
// A field set names the fields an object sets: a scalar field of a struct
// is in it when it is present, and it is present unless it is nil, or zero
// and omitempty; a map field names its keys. So within structs a string,
// number or time encodes as zero or not, a bool as itself, and a map of
// strings as its keys with their values zero or not. Lists are encoded
// whole (appendValue): an associative list names its items by the values
// of their keys, a set by its values. Maps of anything else, and
// quantities, are encoded whole too. The encoding is determined by v's
// type, so for one type equal encodings mean equal shapes. ok is false for
// a value holding interfaces, channels, functions or structs of unexported
// fields other than quantities, which it does not attempt.
func appendShape(buf []byte, v reflect.Value, top bool) ([]byte, bool) {
	switch v.Kind() {
	case reflect.String:
		return append(buf, flag(v.Len() > 0)), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return append(buf, flag(v.Int() != 0)), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return append(buf, flag(v.Uint() != 0)), true
	case reflect.Float32, reflect.Float64:
		return append(buf, flag(v.Float() != 0)), true
	case reflect.Bool:
		return append(buf, flag(v.Bool())), true
	case reflect.Slice:
		return appendValue(buf, v)
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0), true
		}
		return appendShape(append(buf, 1), v.Elem(), false)
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return appendValue(buf, v)
		}
		if v.IsNil() {
			return append(buf, 0), true
		}
		buf = binary.AppendUvarint(append(buf, 1), uint64(v.Len()))
		return appendMapEntries(buf, v, func(buf []byte, value reflect.Value) ([]byte, bool) {
			return append(buf, flag(value.Len() > 0)), true
		})
	case reflect.Struct:
		return appendStructShape(buf, v, top)
	default:
		return buf, false
	}
}

// identityFields are the ObjectMeta fields the field manager strips from
// the records of every write.
var identityFields = map[string]bool{
	"Name": true, "Namespace": true, "UID": true, "ResourceVersion": true,
	"CreationTimestamp": true, "Generation": true, "SelfLink": true,
}

// objectMetaIdentity marks ObjectMeta's identity fields by index.
var objectMetaIdentity = func() []bool {
	marks := make([]bool, objectMetaType.NumField())
	for i := range marks {
		marks[i] = identityFields[objectMetaType.Field(i).Name]
	}
	return marks
}()

// shapeFields is what appendStructShape and appendValue read of a struct
// type's fields, worked out once per type: reflect.Type.Field copies a StructField on
// every call, which was half the walk's time.
type shapeFields struct {
	exported   bool   // every field is
	objectMeta []bool // by field: whether it is an ObjectMeta
}

var shapeFieldsCache sync.Map // reflect.Type -> *shapeFields

func shapeFieldsOf(t reflect.Type) *shapeFields {
	if cached, ok := shapeFieldsCache.Load(t); ok {
		return cached.(*shapeFields)
	}
	s := &shapeFields{exported: true, objectMeta: make([]bool, t.NumField())}
	for i := range t.NumField() {
		f := t.Field(i)
		s.exported = s.exported && f.IsExported()
		s.objectMeta[i] = f.Type == objectMetaType
	}
	shapeFieldsCache.Store(t, s)
	return s
}

func appendStructShape(buf []byte, v reflect.Value, top bool) ([]byte, bool) {
	t := v.Type()
	switch t {
	case timeType:
		return append(buf, flag(!v.Interface().(metav1.Time).Time.IsZero())), true
	case microTimeType:
		return append(buf, flag(!v.Interface().(metav1.MicroTime).Time.IsZero())), true
	case quantityType:
		return appendValue(buf, v)
	}
	fields := shapeFieldsOf(t)
	if !fields.exported {
		return buf, false
	}
	for i, isMeta := range fields.objectMeta {
		var ok bool
		if top && isMeta {
			buf, ok = appendObjectMetaShape(buf, v.Field(i))
		} else {
			buf, ok = appendShape(buf, v.Field(i), false)
		}
		if !ok {
			return buf, false
		}
	}
	return buf, true
}

// appendObjectMetaShape is appendShape of the object's own metadata,
// without its identity fields.
func appendObjectMetaShape(buf []byte, v reflect.Value) ([]byte, bool) {
	for i, identity := range objectMetaIdentity {
		if identity {
			continue
		}
		var ok bool
		if buf, ok = appendShape(buf, v.Field(i), false); !ok {
			return buf, false
		}
	}
	return buf, true
}

// appendValue appends an encoding of v's whole value, determined by v's
// type and one to one with its values (nil and empty lists and maps
// apart).
func appendValue(buf []byte, v reflect.Value) ([]byte, bool) {
	switch v.Kind() {
	case reflect.String:
		return append(binary.AppendUvarint(buf, uint64(v.Len())), v.String()...), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(buf, v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(v.Float())), true
	case reflect.Bool:
		return append(buf, flag(v.Bool())), true
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0), true
		}
		return appendValue(append(buf, 1), v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(buf, 0), true
		}
		buf = binary.AppendUvarint(append(buf, 1), uint64(v.Len()))
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return append(buf, v.Bytes()...), true
		}
		for i := range v.Len() {
			var ok bool
			if buf, ok = appendValue(buf, v.Index(i)); !ok {
				return buf, false
			}
		}
		return buf, true
	case reflect.Map:
		if v.IsNil() {
			return append(buf, 0), true
		}
		buf = binary.AppendUvarint(append(buf, 1), uint64(v.Len()))
		return appendMapEntries(buf, v, appendValue)
	case reflect.Struct:
		switch v.Type() {
		case timeType:
			return appendTime(buf, v.Interface().(metav1.Time).Time), true
		case microTimeType:
			return appendTime(buf, v.Interface().(metav1.MicroTime).Time), true
		case quantityType:
			q := v.Interface().(resource.Quantity)
			return appendValue(buf, reflect.ValueOf(q.String()))
		}
		if !shapeFieldsOf(v.Type()).exported {
			return buf, false
		}
		for i := range v.NumField() {
			var ok bool
			if buf, ok = appendValue(buf, v.Field(i)); !ok {
				return buf, false
			}
		}
		return buf, true
	default:
		return buf, false
	}
}

// appendMapEntries appends map v's entries in the order of their (string)
// keys, each key whole and its value by value.
func appendMapEntries(buf []byte, v reflect.Value, value func([]byte, reflect.Value) ([]byte, bool)) ([]byte, bool) {
	if v.Type().Key().Kind() != reflect.String {
		return buf, false
	}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
	for _, k := range keys {
		var ok bool
		buf = append(binary.AppendUvarint(buf, uint64(k.Len())), k.String()...)
		if buf, ok = value(buf, v.MapIndex(k)); !ok {
			return buf, false
		}
	}
	return buf, true
}

// appendTime encodes a time by its instant (zero apart).
func appendTime(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(buf, 0)
	}
	return binary.AppendUvarint(binary.AppendVarint(append(buf, 1), t.Unix()), uint64(t.Nanosecond()))
}

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}

var (
	timeType      = reflect.TypeFor[metav1.Time]()
	microTimeType = reflect.TypeFor[metav1.MicroTime]()
	quantityType  = reflect.TypeFor[resource.Quantity]()
)
