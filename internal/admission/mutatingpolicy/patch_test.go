package mutatingpolicy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// evalValue compiles and evaluates source in the mutation environment
// with object bound to obj, and converts the result to JSON-like values.
func evalValue(t *testing.T, source string, obj map[string]any) (any, error) {
	t.Helper()
	env, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(source)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := prg.ContextEval(context.Background(), map[string]any{"object": obj})
	if err != nil {
		return nil, err
	}
	return jsonValue(v)
}

func TestTypeProvider(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		want    any
		wantErr string
	}{
		{name: "root", source: `Object{}`, want: map[string]any{}},
		{name: "nested", source: `Object{spec: Object.spec{replicas: 1337}}`,
			want: map[string]any{"spec": map[string]any{"replicas": int64(1337)}}},
		{name: "deep path and map literal",
			source: `Object{spec: Object.spec{template: Object.spec.template{metadata: Object.spec.template.metadata{labels: {"a": "b"}}}}}`,
			want:   map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}}}}},
		{name: "lists of objects",
			source: `Object{spec: Object.spec{containers: [Object.spec.containers{name: "c", image: "i"}]}}`,
			want:   map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}},
		{name: "values from the object", source: `Object{spec: Object.spec{replicas: object.spec.replicas + 1}}`,
			want: map[string]any{"spec": map[string]any{"replicas": int64(3)}}},
		{name: "fields of constructed values", source: `Object{spec: Object.spec{replicas: 4}}.spec.replicas`, want: int64(4)},
		{name: "presence set", source: `has(Object{spec: Object.spec{}}.spec)`, want: true},
		{name: "presence unset", source: `has(Object{}.spec)`, want: false},
		{name: "json patch", source: `[JSONPatch{op: "add", path: "/spec/replicas", value: 3}, JSONPatch{op: "move", from: "/a", path: "/b"}]`,
			want: []any{
				map[string]any{"op": "add", "path": "/spec/replicas", "value": int64(3)},
				map[string]any{"op": "move", "from": "/a", "path": "/b"},
			}},
		{name: "escape key", source: `jsonpatch.escapeKey("example.com/a~b")`, want: "example.com~1a~0b"},
		{name: "json patch field type", source: `JSONPatch{op: 1}`, wantErr: "expected type of field 'op'"},
		{name: "json patch unknown field", source: `JSONPatch{op: "add", bogus: 1}`, wantErr: "undefined field 'bogus'"},
		{name: "other type names", source: `Objects{}`, wantErr: "undeclared reference to 'Objects'"},
		{name: "path ending in a dot is not a type", source: `Object.{}`, wantErr: "Syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := evalValue(t, tt.source, map[string]any{"spec": map[string]any{"replicas": int64(2)}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeMaps(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"name": "d", "annotations": map[string]any{"keep": "1", "change": "old"}},
		"spec":     map[string]any{"replicas": int64(1), "list": []any{"a", "b"}, "gone": "x"},
	}
	tests := []struct {
		name  string
		patch map[string]any
		want  map[string]any
	}{
		{name: "empty", patch: map[string]any{}, want: obj},
		{name: "maps merged key by key, scalars replaced",
			patch: map[string]any{"metadata": map[string]any{"annotations": map[string]any{"change": "new", "add": "2"}}},
			want: map[string]any{
				"metadata": map[string]any{"name": "d", "annotations": map[string]any{"keep": "1", "change": "new", "add": "2"}},
				"spec":     obj["spec"],
			}},
		{name: "lists replaced", patch: map[string]any{"spec": map[string]any{"list": []any{"c"}}},
			want: map[string]any{"metadata": obj["metadata"],
				"spec": map[string]any{"replicas": int64(1), "list": []any{"c"}, "gone": "x"}}},
		{name: "null removes", patch: map[string]any{"spec": map[string]any{"gone": nil}},
			want: map[string]any{"metadata": obj["metadata"],
				"spec": map[string]any{"replicas": int64(1), "list": []any{"a", "b"}}}},
		{name: "new subtree without its nulls", patch: map[string]any{"status": map[string]any{"a": "b", "c": nil}},
			want: map[string]any{"metadata": obj["metadata"], "spec": obj["spec"], "status": map[string]any{"a": "b"}}},
		{name: "map replaces scalar", patch: map[string]any{"spec": map[string]any{"replicas": map[string]any{"x": "y"}}},
			want: map[string]any{"metadata": obj["metadata"],
				"spec": map[string]any{"replicas": map[string]any{"x": "y"}, "list": []any{"a", "b"}, "gone": "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneJSON(obj)
			got := mergeMaps(obj, tt.patch)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, obj); diff != "" {
				t.Errorf("merge changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestJSONPatch(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"name": "d", "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"replicas": int64(1), "list": []any{"a", "b"}},
	}
	tests := []struct {
		name    string
		source  string
		want    map[string]any
		wantErr string
	}{
		{name: "no operations", source: `[]`, want: obj},
		{name: "add and replace",
			source: `[JSONPatch{op: "replace", path: "/spec/replicas", value: 3}, JSONPatch{op: "add", path: "/spec/list/-", value: "c"}]`,
			want: map[string]any{"metadata": obj["metadata"],
				"spec": map[string]any{"replicas": int64(3), "list": []any{"a", "b", "c"}}}},
		{name: "escaped key",
			source: `[JSONPatch{op: "add", path: "/metadata/labels/" + jsonpatch.escapeKey("example.com/x"), value: "y"}]`,
			want: map[string]any{"spec": obj["spec"],
				"metadata": map[string]any{"name": "d", "labels": map[string]any{"app": "web", "example.com/x": "y"}}}},
		{name: "object values",
			source: `[JSONPatch{op: "add", path: "/status", value: Object.status{ready: true}}]`,
			want:   map[string]any{"metadata": obj["metadata"], "spec": obj["spec"], "status": map[string]any{"ready": true}}},
		{name: "remove", source: `[JSONPatch{op: "remove", path: "/metadata/labels"}]`,
			want: map[string]any{"metadata": map[string]any{"name": "d"}, "spec": obj["spec"]}},
		{name: "failed test", source: `[JSONPatch{op: "test", path: "/spec/replicas", value: 2}]`, wantErr: "testing value /spec/replicas failed"},
		{name: "missing path", source: `[JSONPatch{op: "replace", path: "/nope/x", value: 2}]`, wantErr: "replace operation does not apply"},
		{name: "no op", source: `[JSONPatch{path: "/a"}]`, wantErr: "has no op"},
		{name: "not a list", source: `JSONPatch{op: "add", path: "/a", value: 1}`, wantErr: "must evaluate to a list"},
	}
	env, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ast, iss := env.Compile(tt.source)
			if iss.Err() != nil {
				t.Fatal(iss.Err())
			}
			prg, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := prg.Eval(map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := jsonPatch(obj, v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("patched (-want +got):\n%s", diff)
			}
		})
	}
}

// cloneJSON deep-copies a JSON-like map.
func cloneJSON(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			out[k] = cloneJSON(v)
		case []any:
			out[k] = append([]any(nil), v...)
		default:
			out[k] = v
		}
	}
	return out
}
