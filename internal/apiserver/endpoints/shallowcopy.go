package endpoints

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
)

// shallowCopy returns a copy of obj's top-level struct that shares every
// map, slice and pointer with obj. Encoders set TypeMeta on what they
// encode; objects from the watch cache are shared by every reader and
// watcher, so each encode gets its own top level to write on instead.
func shallowCopy(obj runtime.Object) runtime.Object {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return obj
	}
	out := reflect.New(v.Elem().Type())
	out.Elem().Set(v.Elem())
	if copied, ok := out.Interface().(runtime.Object); ok {
		return copied
	}
	return obj
}
