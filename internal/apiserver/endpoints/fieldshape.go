package endpoints

import (
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fieldShape returns a copy of v (a struct value) that has the same
// managed fields but forgets the values that do not decide them, so that
// objects differing only in such values have equal shapes.
//
// A field set names the fields an object sets: a scalar field of a struct
// is in it when it is present, and it is present unless it is nil, or zero
// and omitempty; a map field names its keys. So within structs, a non-empty
// string becomes "x", a non-zero number 1 and a non-zero time one fixed
// instant, keeping every zero value zero; a map of strings keeps its keys
// with such values. Lists are kept as they are: an associative list names
// its items by the values of their keys, a set by its values. Maps of
// anything else, and structs of unexported fields (quantities), are kept
// as they are too. ok is false for a value holding interfaces or
// channels, whose copy it does not attempt.
func fieldShape(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		if v.Len() > 0 {
			out.SetString("x")
		}
		return out, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out := reflect.New(v.Type()).Elem()
		if v.Int() != 0 {
			out.SetInt(1)
		}
		return out, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out := reflect.New(v.Type()).Elem()
		if v.Uint() != 0 {
			out.SetUint(1)
		}
		return out, true
	case reflect.Float32, reflect.Float64:
		out := reflect.New(v.Type()).Elem()
		if v.Float() != 0 {
			out.SetFloat(1)
		}
		return out, true
	case reflect.Bool, reflect.Slice:
		return v, true
	case reflect.Pointer:
		if v.IsNil() {
			return v, true
		}
		elem, ok := fieldShape(v.Elem())
		if !ok {
			return v, false
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(elem)
		return out, true
	case reflect.Map:
		if v.IsNil() || v.Type().Elem().Kind() != reflect.String {
			return v, true
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			value, _ := fieldShape(it.Value())
			out.SetMapIndex(it.Key(), value)
		}
		return out, true
	case reflect.Struct:
		return structShape(v)
	default:
		return v, false
	}
}

// shapeInstant stands for every non-zero time in a shape.
var shapeInstant = time.Unix(1767225600, 0).UTC()

var (
	timeType      = reflect.TypeFor[metav1.Time]()
	microTimeType = reflect.TypeFor[metav1.MicroTime]()
)

func structShape(v reflect.Value) (reflect.Value, bool) {
	t := v.Type()
	out := reflect.New(t).Elem()
	switch t {
	case timeType:
		if tm := v.Interface().(metav1.Time); !tm.IsZero() {
			out.Set(reflect.ValueOf(metav1.NewTime(shapeInstant)))
		}
		return out, true
	case microTimeType:
		if tm := v.Interface().(metav1.MicroTime); !tm.IsZero() {
			out.Set(reflect.ValueOf(metav1.NewMicroTime(shapeInstant)))
		}
		return out, true
	}
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			return v, true // opaque (a quantity): kept as it is
		}
	}
	for i := range t.NumField() {
		field, ok := fieldShape(v.Field(i))
		if !ok {
			return v, false
		}
		out.Field(i).Set(field)
	}
	return out, true
}
