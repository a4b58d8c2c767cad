package mutatingpolicy

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// Type names mutations construct values of.
const (
	// objectType is the root of an apply configuration; its fields are
	// typed Object.<field>, their fields Object.<field>.<field>, and so on.
	objectType = "Object"
	// jsonPatchType is one JSON patch operation.
	jsonPatchType = "JSONPatch"
)

// jsonPatchFields are JSONPatch's fields and their types.
var jsonPatchFields = map[string]*types.Type{
	"op":    types.StringType,
	"path":  types.StringType,
	"from":  types.StringType,
	"value": types.DynType,
}

// typeProvider adds the types mutations construct to a base provider:
// Object and any Object.<path>, whose fields may have any name and hold
// any value (the object's schema is not consulted, so a wrongly named field
// shows up when the result is converted to the object's type), and
// JSONPatch. Values of these types are built as maps of their fields.
type typeProvider struct {
	types.Provider
}

var _ types.Provider = typeProvider{}

func isObjectType(name string) bool {
	return name == objectType || strings.HasPrefix(name, objectType+".") && !strings.HasSuffix(name, ".")
}

// FindStructType implements types.Provider.
func (p typeProvider) FindStructType(name string) (*types.Type, bool) {
	if isObjectType(name) || name == jsonPatchType {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Provider.FindStructType(name)
}

// FindStructFieldNames implements types.Provider. Object types list no
// fields: any name is accepted.
func (p typeProvider) FindStructFieldNames(name string) ([]string, bool) {
	switch {
	case isObjectType(name):
		return nil, true
	case name == jsonPatchType:
		names := make([]string, 0, len(jsonPatchFields))
		for f := range jsonPatchFields {
			names = append(names, f)
		}
		return names, true
	}
	return p.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p typeProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	var t *types.Type
	switch {
	case isObjectType(name):
		t = types.DynType
	case name == jsonPatchType:
		if t = jsonPatchFields[field]; t == nil {
			return nil, false
		}
	default:
		return p.Provider.FindStructFieldType(name, field)
	}
	return &types.FieldType{
		Type: t,
		IsSet: func(target any) bool {
			_, found := fieldOf(target, field)
			return found
		},
		GetFrom: func(target any) (any, error) {
			v, found := fieldOf(target, field)
			if !found {
				return nil, fmt.Errorf("no such key: %s", field)
			}
			return v, nil
		},
	}, true
}

// fieldOf selects a field of a value NewValue built; the interpreter
// passes its Value(), a map[ref.Val]ref.Val.
func fieldOf(target any, field string) (any, bool) {
	switch m := target.(type) {
	case map[ref.Val]ref.Val:
		v, ok := m[types.String(field)]
		return v, ok
	case traits.Mapper:
		return m.Find(types.String(field))
	case map[string]any:
		v, ok := m[field]
		return v, ok
	}
	return nil, false
}

// NewValue implements types.Provider: an Object or JSONPatch is the map
// of its fields.
func (p typeProvider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if !isObjectType(name) && name != jsonPatchType {
		return p.Provider.NewValue(name, fields)
	}
	m := make(map[ref.Val]ref.Val, len(fields))
	for k, v := range fields {
		m[types.String(k)] = v
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}
