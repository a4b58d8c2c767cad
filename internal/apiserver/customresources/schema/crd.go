package schema

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateCRDSchema checks a CRD version's schema the way kube-apiserver
// does before it accepts the CRD (a 422 otherwise): a schema is required;
// it must not use what CRDs do not support ($ref, uniqueItems, item
// tuples, properties next to additionalProperties, a false
// x-kubernetes-preserve-unknown-fields, unknown types, bad list and map
// types, defaults in the root metadata); it must be structural (types
// everywhere, metadata limited to name and generateName constraints,
// embedded resources of type object, …); and every default must be
// pruned already and valid against its own schema.
//
// fldPath is where the schema sits in the CRD. kube-apiserver names it
// spec.validation.openAPIV3Schema when every version has the same schema
// (always so with one version) and spec.versions[i].schema.openAPIV3Schema
// otherwise.
func ValidateCRDSchema(props *apiextensionsv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	if props == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if props.Nullable {
		return field.ErrorList{field.Forbidden(fldPath.Child("nullable"), "nullable cannot be true at the root")}
	}
	errs := validateProps(props, fldPath, true, false)
	if len(errs) > 0 {
		return errs
	}
	s, err := structural(props)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath, "", err.Error())}
	}
	if errs := structuralschema.ValidateStructural(fldPath, s); len(errs) > 0 {
		return errs
	}
	return validateDefaults(props, fldPath, true)
}

var (
	schemaTypes = []string{"array", "boolean", "integer", "number", "object", "string"}
	listTypes   = []string{"atomic", "set", "map"}
	mapTypes    = []string{"atomic", "granular"}
)

// validateProps checks the features CRD schemas do not support, at p and
// below. inMetadata is true below the root's metadata property.
func validateProps(p *apiextensionsv1.JSONSchemaProps, fldPath *field.Path, isRoot, inMetadata bool) field.ErrorList {
	var errs field.ErrorList
	if p.Ref != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("$ref"), "$ref is not supported"))
	}
	if p.UniqueItems {
		errs = append(errs, field.Forbidden(fldPath.Child("uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
	}
	if p.Items != nil && len(p.Items.JSONSchemas) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("items"), "items must be a schema object and not an array"))
	}
	if p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil && len(p.Properties) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("additionalProperties"), "additionalProperties and properties are mutual exclusive"))
	}
	if p.XPreserveUnknownFields != nil && !*p.XPreserveUnknownFields {
		errs = append(errs, field.Invalid(fldPath.Child("x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"))
	}
	if p.Type != "" && !slices.Contains(schemaTypes, p.Type) {
		errs = append(errs, field.NotSupported(fldPath.Child("type"), p.Type, schemaTypes))
	}
	if inMetadata && p.Default != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("default"), "must not be set in top-level metadata"))
	}
	errs = append(errs, validateListAndMapType(p, fldPath)...)

	for _, name := range slices.Sorted(maps.Keys(p.Properties)) {
		prop := p.Properties[name]
		errs = append(errs, validateProps(&prop, fldPath.Child("properties").Key(name), false, inMetadata || (isRoot && name == "metadata"))...)
	}
	if p.Items != nil && p.Items.Schema != nil {
		errs = append(errs, validateProps(p.Items.Schema, fldPath.Child("items"), false, inMetadata)...)
	}
	if p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil {
		errs = append(errs, validateProps(p.AdditionalProperties.Schema, fldPath.Child("additionalProperties"), false, inMetadata)...)
	}
	for _, j := range []struct {
		name string
		list []apiextensionsv1.JSONSchemaProps
	}{{"allOf", p.AllOf}, {"anyOf", p.AnyOf}, {"oneOf", p.OneOf}} {
		for i := range j.list {
			errs = append(errs, validateProps(&j.list[i], fldPath.Child(j.name).Index(i), false, inMetadata)...)
		}
	}
	if p.Not != nil {
		errs = append(errs, validateProps(p.Not, fldPath.Child("not"), false, inMetadata)...)
	}
	return errs
}

// validateListAndMapType checks x-kubernetes-list-type,
// x-kubernetes-list-map-keys and x-kubernetes-map-type, which server-side
// apply relies on.
func validateListAndMapType(p *apiextensionsv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.XMapType != nil && !slices.Contains(mapTypes, *p.XMapType) {
		errs = append(errs, field.NotSupported(fldPath.Child("x-kubernetes-map-type"), *p.XMapType, mapTypes))
	}
	if p.XListType == nil {
		return errs
	}
	listType := *p.XListType
	typePath, keysPath := fldPath.Child("x-kubernetes-list-type"), fldPath.Child("x-kubernetes-list-map-keys")
	if !slices.Contains(listTypes, listType) {
		return append(errs, field.NotSupported(typePath, listType, listTypes))
	}
	if p.Type != "array" {
		errs = append(errs, field.Invalid(fldPath.Child("type"), p.Type, "must be array if x-kubernetes-list-type is specified"))
	}
	if len(p.XListMapKeys) > 0 && listType != "map" {
		errs = append(errs, field.Invalid(typePath, listType, "must be map if x-kubernetes-list-map-keys is non-empty"))
	}
	var items *apiextensionsv1.JSONSchemaProps
	if p.Items != nil {
		items = p.Items.Schema
	}
	if items == nil {
		return errs
	}
	itemsPath := fldPath.Child("items")
	switch listType {
	case "map":
		if len(p.XListMapKeys) == 0 {
			errs = append(errs, field.Required(keysPath, "must not be empty if x-kubernetes-list-type is map"))
		}
		if items.Type != "object" {
			errs = append(errs, field.Invalid(itemsPath.Child("type"), items.Type, "must be object if parent array's x-kubernetes-list-type is map"))
			break
		}
		for _, k := range p.XListMapKeys {
			if _, ok := items.Properties[k]; !ok {
				errs = append(errs, field.Invalid(keysPath, p.XListMapKeys, "entries must all be names of item properties"))
				break
			}
		}
	case "set":
		const atomicItems = "must be atomic as item of a list with x-kubernetes-list-type=set"
		if items.Type == "object" && (items.XMapType == nil || *items.XMapType != "atomic") {
			errs = append(errs, field.Invalid(itemsPath.Child("x-kubernetes-map-type"), items.XMapType, atomicItems))
		}
		if items.Type == "array" && (items.XListType == nil || *items.XListType != "atomic") {
			errs = append(errs, field.Invalid(itemsPath.Child("x-kubernetes-list-type"), items.XListType, atomicItems))
		}
	}
	return errs
}

// validateDefaults checks every default at p and below (a structural
// schema has none inside allOf/anyOf/oneOf/not): it must have no field the
// schema would prune, and must validate against the schema it sits in,
// including the apiVersion and kind of an embedded resource.
func validateDefaults(p *apiextensionsv1.JSONSchemaProps, fldPath *field.Path, isRoot bool) field.ErrorList {
	var errs field.ErrorList
	if p.Default != nil && !isRoot {
		errs = append(errs, validateDefault(p, fldPath.Child("default"))...)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Properties)) {
		prop := p.Properties[name]
		if isRoot && name == "metadata" {
			continue // defaults are forbidden there, see validateProps
		}
		errs = append(errs, validateDefaults(&prop, fldPath.Child("properties").Key(name), false)...)
	}
	if p.Items != nil && p.Items.Schema != nil {
		errs = append(errs, validateDefaults(p.Items.Schema, fldPath.Child("items"), false)...)
	}
	if p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil {
		errs = append(errs, validateDefaults(p.AdditionalProperties.Schema, fldPath.Child("additionalProperties"), false)...)
	}
	return errs
}

// validateDefault checks the default of p, at fldPath.
func validateDefault(p *apiextensionsv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList {
	var value any
	if err := json.Unmarshal(p.Default.Raw, &value); err != nil {
		return field.ErrorList{field.Invalid(fldPath, string(p.Default.Raw), err.Error())}
	}
	if value == nil {
		return nil // a null default is no default
	}
	s, err := structural(p)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath, value, err.Error())}
	}
	pruned := runtime.DeepCopyJSONValue(value)
	pruning.Prune(pruned, s, s.XEmbeddedResource)
	if !reflect.DeepEqual(pruned, value) {
		return field.ErrorList{field.Invalid(fldPath, value, "must not have unknown fields")}
	}
	v, err := newValidator(p)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath, value, err.Error())}
	}
	errs := resultErrors(fldPath, v.Validate(value))
	return append(errs, validateEmbedded(fldPath, value, s, true)...)
}
