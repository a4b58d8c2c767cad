package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The expectations in these tests were recorded from kube-apiserver
// v1.37.2 with the CRD of testdata/widget-schema.json (as upstream
// stores it) and the objects of testdata; see each test.

func readJSON(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := utiljson.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func widgetSchema(t *testing.T) *Schema {
	t.Helper()
	var props apiextensionsv1.JSONSchemaProps
	readJSON(t, "widget-schema.json", &props)
	if errs := ValidateCRDSchema(&props, field.NewPath("spec", "validation", "openAPIV3Schema")); len(errs) > 0 {
		t.Fatalf("upstream accepted this schema; got %v", errs)
	}
	s, err := New(&props)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := utiljson.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

// unknownFieldMessages formats pruned paths as callers must: one
// `unknown field "<path>"` per path, in order.
func unknownFieldMessages(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, fmt.Sprintf("unknown field %q", p))
	}
	return out
}

// TestPruneAndDefaultLikeUpstream replays creates with
// fieldValidation=Warn: the warnings upstream sent (in its order) and
// the object it stored (without server-set metadata).
func TestPruneAndDefaultLikeUpstream(t *testing.T) {
	s := widgetSchema(t)
	for _, tc := range []struct {
		name         string
		wantWarnings []string
	}{
		{name: "good"},
		{name: "unk", wantWarnings: []string{
			`unknown field "metadata.ownerReferences[0].bogus"`,
			`unknown field "metadata.unknownMeta"`,
			`unknown field "spec.foo"`,
			`unknown field "spec.items[0].extra"`,
			`unknown field "spec.items[1].extra2"`,
			`unknown field "spec.nested.b.d"`,
			`unknown field "spec.template.other"`,
			`unknown field "status.bad"`,
			`unknown field "unknownRoot"`,
			`unknown field "zzz"`,
			`unknown field "spec.template.metadata.unknownSubMeta"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var obj, want map[string]any
			readJSON(t, tc.name+".in.json", &obj)
			readJSON(t, tc.name+".want.json", &want)
			got := unknownFieldMessages(s.Prune(obj))
			if diff := cmp.Diff(tc.wantWarnings, got, cmp.Comparer(func(a, b []string) bool { return len(a)+len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			s.Default(obj)
			// The Widget has a status subresource: a create drops the status.
			delete(obj, "status")
			if errs := s.Validate(obj); len(errs) > 0 {
				t.Errorf("Validate: %v", errs)
			}
			if diff := cmp.Diff(normalise(t, want), normalise(t, obj)); diff != "" {
				t.Errorf("stored object (-want +got):\n%s", diff)
			}
		})
	}
}

// normalise round-trips v through JSON so numbers compare as float64.
func normalise(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestValidateLikeUpstream: each spec was POSTed as a Widget; want is the
// list of causes of upstream's 422, sorted.
func TestValidateLikeUpstream(t *testing.T) {
	s := widgetSchema(t)
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{`{}`, []string{`spec.mode: Required value`}},
		{`{"mode":"medium"}`, []string{`spec.mode: Unsupported value: "medium": supported values: "fast", "slow"`}},
		{`{"mode":"fast","size":"3"}`, []string{`spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"`}},
		{`{"mode":"fast","size":0}`, []string{`spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1`}},
		{`{"mode":"fast","size":11}`, []string{`spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10`}},
		{`{"mode":"fast","size":2.5}`, []string{
			`<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.size`,
			`spec.size: Invalid value: "number": spec.size in body must be of type integer: "number"`,
		}},
		{`{"mode":"fast","ratio":1.5}`, []string{`spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5`}},
		// upstream's validator compares an integer with the maximum 1.5 as an integer
		{`{"mode":"slow","ratio":1}`, []string{`spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1`}},
		{`{"mode":"fast","ratio":"x"}`, []string{`spec.ratio: Invalid value: "string": spec.ratio in body must be of type number: "string"`}},
		{`{"mode":"fast","enabled":"yes"}`, []string{`spec.enabled: Invalid value: "string": spec.enabled in body must be of type boolean: "string"`}},
		{`{"mode":"fast","name":"a"}`, []string{`spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long`}},
		{`{"mode":"fast","name":"abcdefg"}`, []string{`spec.name: Too long: may not be more than 5 bytes`}},
		{`{"mode":"fast","name":"AB1"}`, []string{`spec.name: Invalid value: "AB1": spec.name in body should match '^[a-z]+$'`}},
		{`{"mode":"fast","email":"notanemail"}`, []string{`spec.email: Invalid value: "notanemail": spec.email in body must be of type email: "notanemail"`}},
		{`{"mode":"fast","size":null}`, nil},
		{`{"mode":"fast","ios":1.5}`, []string{`spec.ios: Invalid value: "number": spec.ios in body must be of type integer,string: "number"`}},
		{`{"mode":"fast","ios":true}`, []string{`spec.ios: Invalid value: "boolean": spec.ios in body must be of type integer,string: "boolean"`}},
		{`{"mode":"fast","tags":[]}`, []string{`spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items`}},
		{`{"mode":"fast","tags":["a","b","c"]}`, []string{`spec.tags: Too many: 3: must have at most 2 items`}},
		{`{"mode":"fast","tags":["a","a"]}`, []string{`spec.tags[1]: Duplicate value: "a"`}},
		{`{"mode":"fast","labelsMap":{"a":"1","b":"2","c":"3"}}`, []string{`spec.labelsMap: Too many: 3: must have at most 2 items`}},
		{`{"mode":"fast","labelsMap":{"a":1}}`, []string{`spec.labelsMap.a: Invalid value: "integer": spec.labelsMap.a in body must be of type string: "integer"`}},
		{`{"mode":"fast","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":80,"protocol":"TCP"}]}`,
			[]string{`spec.ports[1]: Duplicate value: {"containerPort":80,"protocol":"TCP"}`}},
		{`{"mode":"fast","ports":[{"containerPort":80}]}`, []string{`spec.ports[0].protocol: Required value`}},
		{`{"mode":"fast","oneof":{}}`, []string{
			`<nil>: Invalid value: "": "spec.oneof" must validate one and only one schema (oneOf). Found none valid`,
			`spec.oneof.x: Required value`,
		}},
		{`{"mode":"fast","oneof":{"x":"1","y":"2"}}`, []string{`<nil>: Invalid value: "": "spec.oneof" must validate one and only one schema (oneOf). Found 2 valid alternatives`}},
		{`{"mode":"fast","notzero":0}`, []string{`<nil>: Invalid value: "": "spec.notzero" must not validate the schema (not)`}},
		{`{"mode":"fast","template":{"metadata":{"name":"Bad_Name"}}}`, []string{`spec.template.apiVersion: Required value`, `spec.template.kind: Required value`}},
		{`{"mode":"fast","template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sub","namespace":"-x-"}}}`, []string{
			`spec.template.metadata.namespace: Invalid value: "-x-": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		}},
		{`{"mode":3,"items":"notarray","nested":"str"}`, []string{
			`spec.items: Invalid value: "string": spec.items in body must be of type array: "string"`,
			`spec.mode: Invalid value: "integer": spec.mode in body must be of type string: "integer"`,
			`spec.mode: Unsupported value: 3: supported values: "fast", "slow"`,
			`spec.nested: Invalid value: "string": spec.nested in body must be of type object: "string"`,
		}},
		{`"string"`, []string{`spec: Invalid value: "string": spec in body must be of type object: "string"`}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			obj := mustJSON(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":`+tc.spec+`}`)
			s.Prune(obj)
			s.Default(obj)
			var got []string
			for _, err := range s.Validate(obj) {
				got = append(got, err.Error())
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
