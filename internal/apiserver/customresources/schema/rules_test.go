package schema

import (
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

const rulesSchema = `{
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "x-kubernetes-validations": [
        {"rule": "self.minReplicas <= self.replicas", "message": "replicas must be at least minReplicas"},
        {"rule": "!has(self.mode) || self.mode != 'off' || self.replicas == 0",
         "messageExpression": "'mode off needs 0 replicas, not ' + string(self.replicas)", "reason": "FieldValueForbidden"},
        {"rule": "quantity(self.size).isGreaterThan(quantity('1Gi'))"}
      ],
      "properties": {
        "replicas": {"type": "integer"},
        "minReplicas": {"type": "integer"},
        "mode": {"type": "string"},
        "size": {"type": "string"},
        "id": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "id is immutable"}]},
        "ports": {"type": "array", "items": {"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0", "fieldPath": ""}]}}
      }
    }
  }
}`

func TestValidationRules(t *testing.T) {
	var props apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal([]byte(rulesSchema), &props); err != nil {
		t.Fatal(err)
	}
	s, err := New(&props)
	if err != nil {
		t.Fatal(err)
	}
	spec := func(fields string) map[string]any {
		var m map[string]any // integers as int64, as objects are decoded
		if err := utiljson.Unmarshal([]byte(`{"apiVersion":"x.io/v1","kind":"X","spec":`+fields+`}`), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		obj, old map[string]any
		want     string // joined errors; "" for none
	}{
		{name: "all rules hold", obj: spec(`{"replicas":2,"minReplicas":1,"id":"a","ports":[80]}`)},
		{name: "object rule", obj: spec(`{"replicas":1,"minReplicas":2}`),
			want: `spec: Invalid value: "object": replicas must be at least minReplicas`},
		{name: "message expression and reason", obj: spec(`{"replicas":3,"minReplicas":1,"mode":"off"}`),
			want: `spec: Forbidden: mode off needs 0 replicas, not 3`},
		{name: "list items, default message", obj: spec(`{"replicas":1,"minReplicas":1,"ports":[80,0]}`),
			want: `spec.ports[1]: Invalid value: "integer": failed rule: self > 0`},
		{name: "transition rule skipped on create", obj: spec(`{"replicas":1,"minReplicas":1,"id":"b"}`)},
		{name: "transition rule on update", obj: spec(`{"replicas":1,"minReplicas":1,"id":"b"}`),
			old: spec(`{"replicas":1,"minReplicas":1,"id":"a"}`), want: `spec.id: Invalid value: "string": id is immutable`},
		{name: "transition rule kept value", obj: spec(`{"replicas":2,"minReplicas":1,"id":"a"}`),
			old: spec(`{"replicas":1,"minReplicas":1,"id":"a"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := s.ValidateUpdate(tc.obj, tc.old)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "; ") != tc.want {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
		})
	}
}
