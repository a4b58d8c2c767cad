package registry

import (
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Custom resources are unstructured: their spec and status are the
// top-level keys of the object's content, not struct fields.

// setUnstructuredStatus is setStatus for custom resources.
func setUnstructuredStatus(obj *unstructured.Unstructured, old runtime.Object) {
	var status any
	if u, ok := old.(*unstructured.Unstructured); ok {
		status = u.Object["status"]
	}
	if status == nil {
		delete(obj.Object, "status")
		return
	}
	obj.Object["status"] = runtime.DeepCopyJSONValue(status)
}

// unstructuredChanged reports whether obj and old differ in any top-level
// key but the ones ignored.
func unstructuredChanged(obj *unstructured.Unstructured, old runtime.Object, ignored ...string) bool {
	u, ok := old.(*unstructured.Unstructured)
	if !ok {
		return true
	}
	strip := func(m map[string]any) map[string]any {
		out := maps.Clone(m)
		for _, k := range ignored {
			delete(out, k)
		}
		return out
	}
	return !equality.Semantic.DeepEqual(strip(obj.Object), strip(u.Object))
}

// withUnstructuredStatusOf is withStatusOf for custom resources: obj's
// status (and the managedFields tracked for it), everything else, the rest
// of metadata included, from current, as upstream's status strategy of
// custom resources keeps it.
func withUnstructuredStatusOf(current *unstructured.Unstructured, obj *unstructured.Unstructured) *unstructured.Unstructured {
	out := current.DeepCopy()
	out.SetManagedFields(obj.GetManagedFields())
	if status, ok := obj.Object["status"]; ok {
		out.Object["status"] = status
	} else {
		delete(out.Object, "status")
	}
	return out
}
