package core

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// metaFields returns the metadata fields every object can be selected by:
// metadata.name, and metadata.namespace for namespaced resources.
func metaFields(m *metav1.ObjectMeta, namespaced bool) fields.Set {
	fs := fields.Set{"metadata.name": m.Name}
	if namespaced {
		fs["metadata.namespace"] = m.Namespace
	}
	return fs
}

// errWrongType reports an object handed to the strategy of another type,
// a wiring bug.
func errWrongType(obj runtime.Object) error {
	return fmt.Errorf("unexpected object of type %T", obj)
}

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, errWrongType(obj))}
}
