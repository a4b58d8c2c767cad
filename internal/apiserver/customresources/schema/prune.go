package schema

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Prune removes the fields the schema does not know and returns their
// paths, in the order and form kube-apiserver reports them: callers
// format each as fmt.Sprintf("unknown field %q", path) — the Warning
// header under fieldValidation=Warn, and, joined with ", " after
// "strict decoding error: ", the 400 BadRequest under Strict.
//
// Three passes, as upstream: unknown fields of the root metadata
// ("metadata.unknownMeta", against ObjectMeta), then fields the schema
// does not declare ("spec.foo", "spec.items[0].x", "unknownRoot"; not
// under x-kubernetes-preserve-unknown-fields, and never apiVersion, kind
// or metadata at the root or of an x-kubernetes-embedded-resource), then
// unknown metadata fields of embedded resources
// ("spec.template.metadata.unknownSubMeta"); each pass sorted. Between the
// last two, nulls the schema neither allows nor defaults are dropped
// (not reported). Without a schema only the root metadata is pruned.
func (s *Schema) Prune(obj map[string]any) []string {
	paths := pruneMetadata(obj, field.NewPath("metadata"))
	if s == nil || s.structural == nil {
		return paths
	}
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	paths = append(paths, pruning.PruneWithOptions(obj, s.structural, true, opts)...)
	dropNulls(obj, s.structural)
	var embedded []string
	pruneEmbeddedMetadata(obj, s.structural, nil, &embedded)
	sort.Strings(embedded)
	return append(paths, embedded...)
}

// dropNulls removes the nulls of fields that are neither nullable nor
// defaulted: kube-apiserver treats them as absent. Nulls with a default
// are left for Default to replace.
func dropNulls(x any, s *structuralschema.Structural) {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			sub := fieldSchema(s, k)
			if nonNullableNull(v, sub) && sub.Default.Object == nil {
				delete(x, k)
				continue
			}
			dropNulls(v, sub)
		}
	case []any:
		var items *structuralschema.Structural
		if s != nil {
			items = s.Items
		}
		for _, v := range x {
			dropNulls(v, items)
		}
	}
}

// fieldSchema is the schema of field k of an object of schema s, or nil.
func fieldSchema(s *structuralschema.Structural, k string) *structuralschema.Structural {
	if s == nil {
		return nil
	}
	if prop, ok := s.Properties[k]; ok {
		return &prop
	}
	if s.AdditionalProperties != nil {
		return s.AdditionalProperties.Structural
	}
	return nil
}

// pruneEmbeddedMetadata prunes the metadata of every embedded resource
// below the root, appending the removed paths to out.
func pruneEmbeddedMetadata(x any, s *structuralschema.Structural, path *field.Path, out *[]string) {
	if s == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		if s.XEmbeddedResource && path != nil {
			*out = append(*out, pruneMetadata(x, path.Child("metadata"))...)
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				pruneEmbeddedMetadata(v, &prop, path.Child(k), out)
			} else if s.AdditionalProperties != nil {
				pruneEmbeddedMetadata(v, s.AdditionalProperties.Structural, path.Key(k), out)
			}
		}
	case []any:
		for i, v := range x {
			pruneEmbeddedMetadata(v, s.Items, path.Index(i), out)
		}
	}
}

// pruneMetadata removes the fields of obj["metadata"] that ObjectMeta does
// not have (matched case-sensitively, as the strict decoder does) and
// returns their paths, sorted. Metadata that is not an object is left to
// validation.
func pruneMetadata(obj map[string]any, path *field.Path) []string {
	var out []string
	pruneToType(obj["metadata"], objectMetaType, path.String(), &out)
	sort.Strings(out)
	return out
}

var (
	objectMetaType  = reflect.TypeFor[metav1.ObjectMeta]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// pruneToType removes from the JSON value x what a Go value of type t
// would not decode, recording "<path>.<key>" for each removed key. Types
// that decode themselves (Time, FieldsV1, …) are taken whole.
func pruneToType(x any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for k, v := range m {
			ft, known := fields[k]
			if !known {
				delete(m, k)
				*out = append(*out, path+"."+k)
				continue
			}
			pruneToType(v, ft, path+"."+k, out)
		}
	case reflect.Slice:
		list, ok := x.([]any)
		if !ok {
			return
		}
		for i, v := range list {
			pruneToType(v, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		m, ok := x.(map[string]any)
		if !ok {
			return
		}
		for k, v := range m {
			pruneToType(v, t.Elem(), path+"."+k, out)
		}
	}
}

// jsonFields maps the JSON names of struct type t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
