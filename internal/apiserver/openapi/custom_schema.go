package openapi

import (
	"encoding/json"
	"reflect"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Extensions of custom resource schemas.
const (
	extPreserveUnknown   = "x-kubernetes-preserve-unknown-fields"
	extEmbeddedResource  = "x-kubernetes-embedded-resource"
	extMapType           = "x-kubernetes-map-type"
	extValidations       = "x-kubernetes-validations"
	typeInteger, typeStr = "integer", "string"
)

// crdSchema converts a CRD schema to the OpenAPI 3.0 schema published for
// it. Only what a structural schema may hold is carried over (the CRD
// validation rejects $ref, patternProperties, definitions and the like).
// With unfold, every x-kubernetes-int-or-string node also gets the
// anyOf of integer and string it stands for, unless it spells it out
// already, so that clients need not know the extension; unfold is false
// inside allOf, anyOf, oneOf and not, where the extension cannot be.
func crdSchema(p *apiextensionsv1.JSONSchemaProps, unfold bool) spec.Schema {
	var s spec.Schema
	if p.Type != "" {
		s.Type = spec.StringOrArray{p.Type}
	}
	s.Format = p.Format
	s.Title = p.Title
	s.Description = p.Description
	s.Nullable = p.Nullable
	s.Default = jsonValue(p.Default)
	s.Example = jsonValue(p.Example)
	if p.ExternalDocs != nil {
		s.ExternalDocs = &spec.ExternalDocumentation{Description: p.ExternalDocs.Description, URL: p.ExternalDocs.URL}
	}
	s.Maximum, s.ExclusiveMaximum = p.Maximum, p.ExclusiveMaximum
	s.Minimum, s.ExclusiveMinimum = p.Minimum, p.ExclusiveMinimum
	s.MaxLength, s.MinLength, s.Pattern = p.MaxLength, p.MinLength, p.Pattern
	s.MaxItems, s.MinItems, s.UniqueItems = p.MaxItems, p.MinItems, p.UniqueItems
	s.MultipleOf = p.MultipleOf
	s.MaxProperties, s.MinProperties = p.MaxProperties, p.MinProperties
	s.Required = slices.Clone(p.Required)
	for _, e := range p.Enum {
		s.Enum = append(s.Enum, jsonValue(&e))
	}

	if p.Items != nil && p.Items.Schema != nil {
		item := crdSchema(p.Items.Schema, unfold)
		s.Items = &spec.SchemaOrArray{Schema: &item}
	}
	if p.Properties != nil {
		s.Properties = make(map[string]spec.Schema, len(p.Properties))
		for name, prop := range p.Properties {
			s.Properties[name] = crdSchema(&prop, unfold)
		}
	}
	if ap := p.AdditionalProperties; ap != nil {
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: ap.Allows}
		if ap.Schema != nil {
			value := crdSchema(ap.Schema, unfold)
			s.AdditionalProperties.Schema = &value
		}
	}
	nested := func(ps []apiextensionsv1.JSONSchemaProps) []spec.Schema {
		var out []spec.Schema
		for i := range ps {
			out = append(out, crdSchema(&ps[i], false))
		}
		return out
	}
	s.AllOf, s.AnyOf, s.OneOf = nested(p.AllOf), nested(p.AnyOf), nested(p.OneOf)
	if p.Not != nil {
		not := crdSchema(p.Not, false)
		s.Not = &not
	}

	if p.XPreserveUnknownFields != nil && *p.XPreserveUnknownFields {
		s.AddExtension(extPreserveUnknown, true)
	}
	if p.XEmbeddedResource {
		s.AddExtension(extEmbeddedResource, true)
	}
	if p.XIntOrString {
		s.AddExtension(extIntOrString, true)
		if unfold {
			unfoldIntOrString(p, &s)
		}
	}
	if len(p.XListMapKeys) > 0 {
		s.AddExtension(extListMapKeys, slices.Clone(p.XListMapKeys))
	}
	if p.XListType != nil {
		s.AddExtension(extListType, *p.XListType)
	}
	if p.XMapType != nil {
		s.AddExtension(extMapType, *p.XMapType)
	}
	if len(p.XValidations) > 0 {
		s.AddExtension(extValidations, slices.Clone(p.XValidations))
	}
	return s
}

// intOrString is the anyOf an x-kubernetes-int-or-string node stands for.
var intOrString = []apiextensionsv1.JSONSchemaProps{{Type: typeInteger}, {Type: typeStr}}

// unfoldIntOrString adds to s, the schema of int-or-string node p, the
// anyOf of integer and string: as its anyOf, or as the first item of its
// allOf when it has an anyOf of its own. Nothing is added when p's anyOf,
// or its allOf's first anyOf, is exactly that already.
func unfoldIntOrString(p *apiextensionsv1.JSONSchemaProps, s *spec.Schema) {
	if reflect.DeepEqual(p.AnyOf, intOrString) || len(p.AllOf) > 0 && reflect.DeepEqual(p.AllOf[0].AnyOf, intOrString) {
		return
	}
	anyOf := []spec.Schema{
		{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{typeInteger}}},
		{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{typeStr}}},
	}
	if s.AnyOf == nil {
		s.AnyOf = anyOf
		return
	}
	s.AllOf = append([]spec.Schema{{SchemaProps: spec.SchemaProps{AnyOf: anyOf}}}, s.AllOf...)
}

// jsonValue decodes a JSON value of a schema (default, example, enum).
func jsonValue(j *apiextensionsv1.JSON) any {
	if j == nil || len(j.Raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		// The CRD validation only accepts valid JSON.
		return nil
	}
	return v
}

// swagger2Schema returns the Swagger 2.0 form of s, a schema crdSchema
// made, as upstream publishes it. Swagger 2.0 has no nullable, and
// kubectl validates against the v2 document, so what would reject valid
// objects goes:
//   - allOf, anyOf, oneOf and not (int-or-string keeps its extension);
//   - defaults, which the built-in definitions do not publish in v2;
//   - the type, items and properties of nullable nodes, and their names
//     from the parent's required list (all of it, for a map of nullable
//     values);
//   - the items and properties of nodes that keep unknown fields, and
//     their type when it is object;
//   - the type of arrays left without items.
func swagger2Schema(s spec.Schema) spec.Schema {
	out := s
	out.AllOf, out.AnyOf, out.OneOf, out.Not = nil, nil, nil, nil
	out.Default = nil
	preserve := hasTrue(s.Extensions, extPreserveUnknown)
	if s.Nullable || preserve {
		out.Items, out.Properties = nil, nil
	}
	if s.Nullable {
		out.Type, out.Nullable = nil, false
	}
	if out.Items == nil && out.Type.Contains("array") || preserve && out.Type.Contains("object") {
		out.Type = nil
	}
	if out.Properties != nil {
		out.Properties = make(map[string]spec.Schema, len(s.Properties))
		for name, p := range s.Properties {
			out.Properties[name] = swagger2Schema(p)
		}
		out.Required = slices.DeleteFunc(slices.Clone(s.Required), func(name string) bool {
			p, ok := s.Properties[name]
			return ok && p.Nullable
		})
		if len(out.Required) == 0 {
			out.Required = nil
		}
	}
	if out.Items != nil && out.Items.Schema != nil {
		item := swagger2Schema(*s.Items.Schema)
		out.Items = &spec.SchemaOrArray{Schema: &item}
	}
	if ap := s.AdditionalProperties; ap != nil && ap.Schema != nil {
		if ap.Schema.Nullable {
			out.Required = nil
		}
		value := swagger2Schema(*ap.Schema)
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: ap.Allows, Schema: &value}
	}
	return out
}

// withEmbedded returns s with apiVersion, kind and metadata (of
// definition objectMeta) added to every x-kubernetes-embedded-resource
// node, and kind and apiVersion required there, so that clients see
// embedded objects as objects. In v2, nodes that keep unknown fields are
// left alone: kubectl would otherwise check their fields strictly.
func (b *builder) withEmbedded(s spec.Schema, objectMeta string, v2 bool) spec.Schema {
	out := s
	if s.Properties != nil {
		out.Properties = make(map[string]spec.Schema, len(s.Properties))
		for name, p := range s.Properties {
			out.Properties[name] = b.withEmbedded(p, objectMeta, v2)
		}
	}
	if s.Items != nil && s.Items.Schema != nil {
		item := b.withEmbedded(*s.Items.Schema, objectMeta, v2)
		out.Items = &spec.SchemaOrArray{Schema: &item}
	}
	if ap := s.AdditionalProperties; ap != nil && ap.Schema != nil {
		value := b.withEmbedded(*ap.Schema, objectMeta, v2)
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: ap.Allows, Schema: &value}
	}
	if !hasTrue(s.Extensions, extEmbeddedResource) || v2 && hasTrue(s.Extensions, extPreserveUnknown) {
		return out
	}
	b.addTypeMeta(&out, objectMeta, objectMetaDoc, v2)
	out.Required = slices.Clone(s.Required)
	for _, name := range []string{"kind", "apiVersion"} {
		if !slices.Contains(out.Required, name) {
			out.Required = append(out.Required, name)
		}
	}
	return out
}

func hasTrue(ext spec.Extensions, key string) bool {
	v, ok := ext.GetBool(key)
	return ok && v
}
