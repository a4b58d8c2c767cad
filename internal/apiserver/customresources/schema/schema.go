// Package schema applies one CustomResourceDefinition version's OpenAPI v3
// schema to custom resource objects: it defaults, prunes and validates their
// unstructured JSON content the way kube-apiserver does, and checks that a
// CRD's schema is acceptable in the first place.
package schema

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// Schema is one CRD version's structural schema, ready to default, prune and
// validate objects. It is immutable and safe for concurrent use. A nil
// *Schema, like one built from no schema, keeps every field and defaults
// and validates nothing.
type Schema struct {
	// structural drives defaulting, pruning and list/embedded checks; nil
	// when the version has no schema.
	structural *structuralschema.Structural
	// validator checks values (types, bounds, patterns, enums, …).
	validator *validate.SchemaValidator
	// rules are the compiled x-kubernetes-validations; nil for none.
	rules *ruleNode
}

// New builds it from the version's openAPIV3Schema; nil means no schema:
// everything is kept (preserve unknown fields), nothing defaulted or
// validated. The schema should have passed ValidateCRDSchema; New fails
// only on what cannot be represented at all (e.g. a non-structural schema).
func New(props *apiextensionsv1.JSONSchemaProps) (*Schema, error) {
	if props == nil {
		return &Schema{}, nil
	}
	s, err := structural(props)
	if err != nil {
		return nil, err
	}
	v, err := newValidator(props)
	if err != nil {
		return nil, err
	}
	return &Schema{structural: s, validator: v, rules: compileRules(s)}, nil
}

// structural converts a v1 schema to the structural form the pruning and
// list-type algorithms of apiextensions-apiserver walk.
func structural(props *apiextensionsv1.JSONSchemaProps) (*structuralschema.Structural, error) {
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(props, &internal, nil); err != nil {
		return nil, fmt.Errorf("convert schema: %w", err)
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return nil, fmt.Errorf("schema is not structural: %w", err)
	}
	return s, nil
}

// newValidator builds the kube-openapi validator kube-apiserver uses for
// custom resources, so messages ("spec.x in body must be of type
// integer: ...") come out the same.
func newValidator(props *apiextensionsv1.JSONSchemaProps) (*validate.SchemaValidator, error) {
	openAPI, err := toOpenAPI(props)
	if err != nil {
		return nil, err
	}
	return validate.NewSchemaValidator(openAPI, nil, "", strfmt.Default), nil
}

// toOpenAPI converts a v1 schema to kube-openapi's spec.Schema. The JSON
// field names are the same; afterwards int-or-string becomes the type list
// the validator understands and formats kube-apiserver does not check are
// dropped.
func toOpenAPI(props *apiextensionsv1.JSONSchemaProps) (*spec.Schema, error) {
	raw, err := json.Marshal(props)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	out := &spec.Schema{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("decode schema as OpenAPI: %w", err)
	}
	fixOpenAPI(out)
	return out, nil
}

// fixOpenAPI adjusts s and every schema nested in it; see toOpenAPI.
func fixOpenAPI(s *spec.Schema) {
	if s == nil {
		return
	}
	if v, ok := s.Extensions.GetBool("x-kubernetes-int-or-string"); ok && v {
		s.Type = spec.StringOrArray{"integer", "string"}
	}
	if !formatChecked(s) {
		s.Format = ""
	}
	for _, m := range []map[string]spec.Schema{s.Properties, s.PatternProperties, s.Definitions} {
		for k, sub := range m {
			fixOpenAPI(&sub)
			m[k] = sub
		}
	}
	for _, list := range [][]spec.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range list {
			fixOpenAPI(&list[i])
		}
	}
	fixOpenAPI(s.Not)
	if s.Items != nil {
		fixOpenAPI(s.Items.Schema)
		for i := range s.Items.Schemas {
			fixOpenAPI(&s.Items.Schemas[i])
		}
	}
	for _, sb := range []*spec.SchemaOrBool{s.AdditionalProperties, s.AdditionalItems} {
		if sb != nil {
			fixOpenAPI(sb.Schema)
		}
	}
}

// stringFormats are the string formats kube-apiserver validates (1.37),
// normalised without dashes as go-openapi names them; others are ignored.
var stringFormats = sets.New(
	"bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac",
	"uuid", "uuid3", "uuid4", "uuid5", "isbn", "isbn10", "isbn13", "creditcard",
	"ssn", "hexcolor", "rgbcolor", "byte", "password", "date", "duration",
	"datetime", "k8sshortname", "k8slongname",
)

// formatChecked reports whether kube-apiserver checks s's format.
func formatChecked(s *spec.Schema) bool {
	if s.Format == "" {
		return true
	}
	var typ string
	if len(s.Type) == 1 {
		typ = s.Type[0]
	}
	switch typ {
	case "", "string":
		return stringFormats.Has(strings.ReplaceAll(s.Format, "-", ""))
	case "integer":
		return s.Format == "int32" || s.Format == "int64"
	case "number":
		return s.Format == "float" || s.Format == "double"
	default:
		return false
	}
}
