package endpoints

import (
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// trustedTypeConverter converts decoded Go objects to structured-merge-diff
// values without first walking them to validate them against the schema.
// The schema is generated from those same Go types, so a decoded object
// always conforms; the walk found nothing and cost a third of a pod
// create's field tracking. The comparisons that follow still report
// malformed list keys. Unstructured objects (apply patches) are validated
// as before.
type trustedTypeConverter struct {
	managedfields.TypeConverter

	types sync.Map // schema.GroupVersionKind -> typedSchema
}

// typedSchema is where one kind's type lives in the schema.
type typedSchema struct {
	schema  *smdschema.Schema
	typeRef smdschema.TypeRef
}

func newTrustedTypeConverter(inner managedfields.TypeConverter) *trustedTypeConverter {
	return &trustedTypeConverter{TypeConverter: inner}
}

// ObjectToTyped implements managedfields.TypeConverter.
func (c *trustedTypeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	if _, ok := obj.(*unstructured.Unstructured); ok {
		return c.TypeConverter.ObjectToTyped(obj, opts...)
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	t, err := c.schemaOf(gvk, obj)
	if err != nil {
		return nil, err
	}
	v, err := value.NewValueReflect(obj)
	if err != nil {
		return nil, fmt.Errorf("error creating struct value reflector: %w", err)
	}
	return typed.AsTypedUnvalidated(v, t.schema, t.typeRef), nil //nolint:staticcheck // skipping validation is the point, see the type's comment
}

// schemaOf finds a kind's type by converting an empty object of it through
// the wrapped converter, once per kind.
func (c *trustedTypeConverter) schemaOf(gvk schema.GroupVersionKind, obj runtime.Object) (typedSchema, error) {
	if t, ok := c.types.Load(gvk); ok {
		return t.(typedSchema), nil
	}
	empty, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
	if !ok {
		return typedSchema{}, fmt.Errorf("%T is not a pointer to an object", obj)
	}
	empty.GetObjectKind().SetGroupVersionKind(gvk)
	tv, err := c.TypeConverter.ObjectToTyped(empty)
	if err != nil {
		return typedSchema{}, err
	}
	t := typedSchema{schema: tv.Schema(), typeRef: tv.TypeRef()}
	c.types.Store(gvk, t)
	return t, nil
}
