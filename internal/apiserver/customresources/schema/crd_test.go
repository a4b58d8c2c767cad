package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidateCRDSchemaLikeUpstream: each schema was the only version's
// openAPIV3Schema of a CRD created with --dry-run=server; want is the
// causes of upstream's 422 (none: accepted).
func TestValidateCRDSchemaLikeUpstream(t *testing.T) {
	const p = "spec.validation.openAPIV3Schema"
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{`{"type":"object","properties":{"spec":{"properties":{"a":{"type":"string"}}}}}`,
			[]string{p + `.properties[spec].type: Required value: must not be empty for specified object fields`}},
		{`{"properties":{"spec":{"type":"object"}}}`, []string{p + `.type: Required value: must not be empty at the root`}},
		{`{"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":10},"labels":{"type":"object"}}}}}`,
			[]string{p + `.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`}},
		{`{"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","default":"x"}}}}}`,
			[]string{p + `.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata`}},
		{`{"type":"object","x-kubernetes-preserve-unknown-fields":false}`,
			[]string{p + `.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"integer","default":"x"}}}}}`,
			[]string{p + `.properties[spec].properties[a].default: Invalid value: "string":  in body must be of type integer: "string"`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string","enum":["a","b"],"default":"c"}}}}}`,
			[]string{p + `.properties[spec].properties[a].default: Unsupported value: "c": supported values: "a", "b"`}},
		{`{"type":"object","properties":{"spec":{"type":"object","default":{"unknown":1},"properties":{"a":{"type":"string"}}}}}`,
			[]string{p + `.properties[spec].default: Invalid value: {"unknown":1}: must not have unknown fields`}},
		{`{"type":"object","properties":{"spec":{"type":"object","default":{"a":"x"},"properties":{"a":{"type":"string","pattern":"^y$"}}}}}`,
			[]string{p + `.properties[spec].default.a: Invalid value: "x": a in body should match '^y$'`}},
		{`{"type":"object","properties":{"spec":{"type":"array","uniqueItems":true,"items":{"type":"string"}}}}`,
			[]string{p + `.properties[spec].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}}}`,
			[]string{p + `.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`}},
		{`{"type":"object","properties":{"spec":{"type":"string","x-kubernetes-embedded-resource":true}}}`, []string{
			p + `.properties[spec].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
			p + `.properties[spec].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
		}},
		{`{"type":"object","properties":{"spec":{"type":"array"}}}`, []string{p + `.properties[spec].items: Required value: must be specified`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},"anyOf":[{"properties":{"b":{"type":"string"}}}]}}}`,
			[]string{p + `.properties[spec].anyOf[0].properties[b].type: Forbidden: must be empty to be structural`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string","default":null}}}}}`, nil},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string","format":"bogus"}}}}}`, nil},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"map"}}}}}`, []string{
			p + `.properties[spec].properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
			p + `.properties[spec].properties[a].items.type: Invalid value: "string": must be object if parent array's x-kubernetes-list-type is map`,
		}},
		{`{"type":"object","properties":{"spec":{"$ref":"#/definitions/x"}}}`, []string{p + `.properties[spec].$ref: Forbidden: $ref is not supported`}},
		{`{"type":"object","additionalProperties":{"type":"string"}}`, []string{p + `.additionalProperties: Forbidden: must not be used at the root`}},
		{`{"type":"object","properties":{"spec":{"type":"integer","x-kubernetes-int-or-string":true}}}`, nil},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string","pattern":"(["}}}}}`,
			[]string{p + ".properties[spec].properties[a].pattern: Invalid value: \"([\": must be a valid regular expression, but isn't: error parsing regexp: missing closing ]: `[`"}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}}}`, nil},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true,"default":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","bad":1}}}}}}}`, nil},
		{`{"type":"object","properties":{"metadata":{"type":"string"}}}`, []string{p + `.properties[metadata].type: Invalid value: "string": must be object`}},
		{`{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"kind":{"type":"integer"},"metadata":{"type":"object","properties":{"name":{"type":"string","default":"x"}}}}}}}`,
			[]string{p + `.properties[spec].properties[kind].type: Invalid value: "integer": must be string`}},
		{`{"type":"object","nullable":true}`, []string{p + `.nullable: Forbidden: nullable cannot be true at the root`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"array","items":[{"type":"string"}]}}}}}`,
			[]string{p + `.properties[spec].properties[a].items: Forbidden: items must be a schema object and not an array`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"integer","default":5,"maximum":3}}}}}`,
			[]string{p + `.properties[spec].properties[a].default: Invalid value: 5:  in body should be less than or equal to 3`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"object","default":{"b":null},"properties":{"b":{"type":"string"}}}}}}}`,
			[]string{p + `.properties[spec].properties[a].default.b: Invalid value: "null": b in body must be of type string: "null"`}},
		{`{"type":"object","properties":{"spec":{"type":"object","default":{},"required":["a"],"properties":{"a":{"type":"string","default":"x"}}}}}`,
			[]string{p + `.properties[spec].default.a: Required value`}},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"set","default":["x","x"],"items":{"type":"string"}}}}}}`, nil},
		{`{"type":"object","properties":{"spec":{"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true,"default":{"kind":"Pod"}}}}}}`,
			[]string{p + `.properties[spec].properties[t].default.apiVersion: Required value`}},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"bogus"}}}`,
			[]string{p + `.properties[a].x-kubernetes-list-type: Unsupported value: "bogus": supported values: "atomic", "set", "map"`}},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set","x-kubernetes-list-map-keys":["k"]}}}`,
			[]string{p + `.properties[a].x-kubernetes-list-type: Invalid value: "set": must be map if x-kubernetes-list-map-keys is non-empty`}},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"k":{"type":"string"}}},"x-kubernetes-list-type":"set"}}}`,
			[]string{p + `.properties[a].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set`}},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"k":{"type":"string"}}},"x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["j"]}}}`,
			[]string{p + `.properties[a].x-kubernetes-list-map-keys: Invalid value: ["j"]: entries must all be names of item properties`}},
		{`{"type":"object","properties":{"a":{"type":"string","x-kubernetes-list-type":"set"}}}`,
			[]string{p + `.properties[a].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified`}},
		{`{"type":"object","properties":{"a":{"type":"object","x-kubernetes-map-type":"bogus"}}}`,
			[]string{p + `.properties[a].x-kubernetes-map-type: Unsupported value: "bogus": supported values: "atomic", "granular"`}},
		{`{"type":"object","properties":{"a":{"type":"bogus"}}}`,
			[]string{p + `.properties[a].type: Unsupported value: "bogus": supported values: "array", "boolean", "integer", "number", "object", "string"`}},
		{`{"type":"object","properties":{"a":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"default":{"x":1}}}}`, nil},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			var props apiextensionsv1.JSONSchemaProps
			if err := json.Unmarshal([]byte(tc.schema), &props); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, err := range ValidateCRDSchema(&props, field.NewPath("spec", "validation", "openAPIV3Schema")) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	if got := ValidateCRDSchema(nil, field.NewPath("spec", "versions").Index(0).Child("schema", "openAPIV3Schema")).ToAggregate().Error(); got != "spec.versions[0].schema.openAPIV3Schema: Required value" {
		t.Errorf("no schema: %s", got)
	}
}

// conformanceSchema is the schema of the FieldValidation conformance
// specs, with preserve-unknown-fields on spec when preserve is set and
// the embedded template of the unknown-metadata spec when embedded is.
func conformanceSchema(t *testing.T, preserve, embedded bool) *Schema {
	t.Helper()
	extra := ""
	if preserve {
		extra = `"x-kubernetes-preserve-unknown-fields": true,`
	}
	template := ""
	if embedded {
		template = `"template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
			"metadata": {"type": "object", "properties": {"name": {"type": "string"}}}, "spec": {"type": "object"}}},`
	}
	raw := fmt.Sprintf(`{"type": "object", "properties": {"spec": {"type": "object", %s "properties": {%s
		"foo": {"type": "string"},
		"cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
		"ports": {"type": "array", "x-kubernetes-list-map-keys": ["containerPort", "protocol"], "x-kubernetes-list-type": "map",
			"items": {"type": "object", "required": ["containerPort", "protocol"], "properties": {
				"containerPort": {"format": "int32", "type": "integer"}, "hostIP": {"type": "string"},
				"hostPort": {"format": "int32", "type": "integer"}, "name": {"type": "string"}, "protocol": {"type": "string"}}}}}}}}`, extra, template)
	var props apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal([]byte(raw), &props); err != nil {
		t.Fatal(err)
	}
	if errs := ValidateCRDSchema(&props, field.NewPath("spec", "validation", "openAPIV3Schema")); len(errs) > 0 {
		t.Fatal(errs)
	}
	s, err := New(&props)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformanceFieldValidation covers the objects of the FieldValidation
// conformance specs, with the strict-decoding message upstream returns
// for them on create/update (apply reports through server-side apply).
func TestConformanceFieldValidation(t *testing.T) {
	const body = `"spec": {"foo": "foo1", "cronSpec": "* * * * */5", "ports": [{"name": "x", "containerPort": 80, "protocol": "TCP"}]}`
	for _, tc := range []struct {
		name               string
		preserve, embedded bool
		obj                string
		want               string
	}{
		{"valid CR", false, false,
			`{"apiVersion": "example.com/v1", "kind": "Noxu", "metadata": {"name": "mytest", "finalizers": ["test-finalizer"]}, ` + body + `}`, ""},
		{"extra properties", false, false,
			`{"apiVersion": "example.com/v1", "kind": "Noxu", "metadata": {"name": "mytest"}, "unknownField": "unknown", ` + body + `}`,
			`strict decoding error: unknown field "unknownField"`},
		{"unknown metadata in root and embedded object", true, true,
			`{"apiVersion": "example.com/v1", "kind": "Noxu", "metadata": {"name": "mytest", "unknownMeta": "unknown"},
			"spec": {"template": {"apiversion": "foo/v1", "kind": "Sub", "metadata": {"unknownSubMeta": "unknown", "name": "subobject", "namespace": "ns"}},
			"foo": "foo1", "cronSpec": "* * * * */5", "ports": [{"name": "x", "containerPort": 80, "protocol": "TCP"}]}}`,
			`strict decoding error: unknown field "metadata.unknownMeta", unknown field "spec.template.apiversion", unknown field "spec.template.metadata.unknownSubMeta"`},
		{"preserving unknown fields", true, false,
			`{"apiVersion": "example.com/v1", "kind": "Noxu", "metadata": {"name": "mytest"}, "spec": {"unknown": "uk1", "foo": "foo2"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := conformanceSchema(t, tc.preserve, tc.embedded)
			obj := mustJSON(t, tc.obj)
			var got string
			if paths := s.Prune(obj); len(paths) > 0 {
				got = "strict decoding error: " + strings.Join(unknownFieldMessages(paths), ", ")
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestNoSchemaKeepsEverything(t *testing.T) {
	for _, s := range []*Schema{nil, mustNew(t, nil)} {
		obj := map[string]any{"metadata": map[string]any{"name": "a", "bogus": 1}, "spec": map[string]any{"x": nil}}
		if got := s.Prune(obj); !cmp.Equal(got, []string{"metadata.bogus"}) {
			t.Errorf("Prune = %v; the root metadata is always pruned", got)
		}
		s.Default(obj)
		if errs := s.Validate(obj); errs != nil {
			t.Errorf("Validate = %v", errs)
		}
		if want := map[string]any{"metadata": map[string]any{"name": "a"}, "spec": map[string]any{"x": nil}}; !cmp.Equal(want, obj) {
			t.Errorf("object = %v", obj)
		}
	}
}

func mustNew(t *testing.T, props *apiextensionsv1.JSONSchemaProps) *Schema {
	t.Helper()
	s, err := New(props)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
