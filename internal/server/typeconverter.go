package server

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// fieldsTypeConverter gives managedFields tracking and server-side apply
// the schema of each kind: client-go's generated one for the built-in API
// types, else (kinds it does not describe, such as CustomResourceDefinition
// and APIService) the one built from tug's OpenAPI.
//
// The generated schema carries the API's list markers: a Service's ports
// are keyed by port and protocol, a container's by containerPort and
// protocol, many lists are atomic. tug's OpenAPI is built from struct tags,
// which hold only the strategic-merge key, so its field sets would differ
// from Kubernetes' for those lists. The generated schema takes about 75 ms
// to parse; it is parsed on first use (warm starts that in the background).
type fieldsTypeConverter struct {
	scheme    *runtime.Scheme
	generated func() managedfields.TypeConverter
	fallback  managedfields.TypeConverter

	known sync.Map // schema.GroupVersionKind → bool: the generated schema describes it
}

func newFieldsTypeConverter(scheme *runtime.Scheme, fallback managedfields.TypeConverter) *fieldsTypeConverter {
	return &fieldsTypeConverter{
		scheme:    scheme,
		generated: sync.OnceValue(func() managedfields.TypeConverter { return applyconfigurations.NewTypeConverter(scheme) }),
		fallback:  fallback,
	}
}

// warm parses the generated schema now rather than on the first write.
func (c *fieldsTypeConverter) warm() { c.generated() }

// ObjectToTyped implements managedfields.TypeConverter.
func (c *fieldsTypeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	return c.converterFor(obj.GetObjectKind().GroupVersionKind()).ObjectToTyped(obj, opts...)
}

// TypedToObject implements managedfields.TypeConverter: both converters
// turn a value into an unstructured object the same way.
func (c *fieldsTypeConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	return c.fallback.TypedToObject(v)
}

// converterFor picks the converter of kind gvk, asking the generated
// schema once whether it describes the kind.
func (c *fieldsTypeConverter) converterFor(gvk schema.GroupVersionKind) managedfields.TypeConverter {
	known, ok := c.known.Load(gvk)
	if !ok {
		known = false
		if empty, err := c.scheme.New(gvk); err == nil {
			empty.GetObjectKind().SetGroupVersionKind(gvk)
			_, err := c.generated().ObjectToTyped(empty)
			known = err == nil
		}
		c.known.Store(gvk, known)
	}
	if known.(bool) {
		return c.generated()
	}
	return c.fallback
}
