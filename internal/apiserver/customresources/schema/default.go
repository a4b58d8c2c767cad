package schema

import (
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/runtime"
)

// Default fills in the `default` of every field that is missing, or null
// where the schema does not allow null, at every depth: properties, array
// items and additionalProperties values (those only replace nulls: a map
// has no missing key to fill). It works top-down, so a defaulted object
// gets its own fields' defaults too. kube-apiserver does this on requests
// after pruning and on every read from storage, so objects stored before a
// default was added show it. Defaults are deep-copied into obj.
func (s *Schema) Default(obj map[string]any) {
	if s == nil || s.structural == nil {
		return
	}
	applyDefaults(obj, s.structural)
}

// applyDefaults defaults the value x of schema s in place.
func applyDefaults(x any, s *structuralschema.Structural) {
	if s == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range s.Properties {
			if prop.Default.Object == nil {
				continue
			}
			if v, ok := x[k]; !ok || nonNullableNull(v, &prop) {
				x[k] = runtime.DeepCopyJSONValue(prop.Default.Object)
			}
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				applyDefaults(v, &prop)
				continue
			}
			if s.AdditionalProperties == nil || s.AdditionalProperties.Structural == nil {
				continue
			}
			sub := s.AdditionalProperties.Structural
			if nonNullableNull(v, sub) && sub.Default.Object != nil {
				x[k] = runtime.DeepCopyJSONValue(sub.Default.Object)
			}
			applyDefaults(x[k], sub)
		}
	case []any:
		for i := range x {
			if nonNullableNull(x[i], s.Items) && s.Items.Default.Object != nil {
				x[i] = runtime.DeepCopyJSONValue(s.Items.Default.Object)
			}
			applyDefaults(x[i], s.Items)
		}
	}
}

// nonNullableNull reports whether x is a null its schema does not allow.
func nonNullableNull(x any, s *structuralschema.Structural) bool {
	return x == nil && s != nil && !s.Nullable
}
