package openapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// customKinds reads the CustomResourceDefinitions in testdata/custom and
// returns their served versions, as the server passes them.
func customKinds(t *testing.T, files ...string) []CustomKind {
	t.Helper()
	var kinds []CustomKind
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join("testdata", "custom", file))
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		kinds = append(kinds, kindsOf(&crd)...)
	}
	return kinds
}

func kindsOf(crd *apiextensionsv1.CustomResourceDefinition) []CustomKind {
	var kinds []CustomKind
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		k := CustomKind{
			GVK:        schemaGVK(crd.Spec.Group, v.Name, crd.Spec.Names.Kind),
			ListKind:   crd.Spec.Names.ListKind,
			Resource:   crd.Spec.Names.Plural,
			Namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
			Verbs:      resources.VerbsCRUD,
		}
		if v.Schema != nil {
			k.Schema = v.Schema.OpenAPIV3Schema
		}
		if v.Subresources != nil && v.Subresources.Status != nil {
			k.Subresources = append(k.Subresources, Subresource{Name: "status", Verbs: resources.VerbsStatus})
		}
		if v.Subresources != nil && v.Subresources.Scale != nil {
			k.Subresources = append(k.Subresources, Subresource{
				Name: "scale", GVK: autoscalingv1.SchemeGroupVersion.WithKind("Scale"),
				Type: reflect.TypeFor[autoscalingv1.Scale](), Verbs: resources.VerbsStatus,
			})
		}
		kinds = append(kinds, k)
	}
	return kinds
}

// published is the part of the documents that testdata/custom/upstream.json
// holds for the custom kinds, as kube-apiserver 1.37 served them for the
// same CustomResourceDefinitions: definitions and paths' operation IDs.
type published struct {
	Definitions map[string]any            `json:"definitions,omitempty"`
	Schemas     map[string]any            `json:"schemas,omitempty"`
	Paths       map[string]map[string]any `json:"paths"`
}

// TestCustomMatchesUpstream compares the custom kinds' definitions and
// operations with upstream's, but for the descriptions this package words
// itself (of apiVersion, kind and metadata, and of the list kinds).
func TestCustomMatchesUpstream(t *testing.T) {
	o, err := newBuiltin(t).WithCustom(customKinds(t, "crontabs.yaml", "anythings.yaml", "foos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "custom", "upstream.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		V2 published            `json:"v2"`
		V3 map[string]published `json:"v3"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}

	enc, err := o.v2.json()
	if err != nil {
		t.Fatal(err)
	}
	var v2 struct {
		Definitions map[string]any            `json:"definitions"`
		Paths       map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(enc.data, &v2); err != nil {
		t.Fatal(err)
	}
	got := published{Definitions: customOnly(v2.Definitions), Paths: operationIDs(v2.Paths)}
	if diff := cmp.Diff(want.V2, got); diff != "" {
		t.Errorf("v2 differs from upstream (-want +got):\n%s", diff)
	}

	for gv, w := range want.V3 {
		d, ok := o.v3[gv]
		if !ok {
			t.Fatalf("no v3 document for %s", gv)
		}
		enc, err := d.json()
		if err != nil {
			t.Fatal(err)
		}
		var v3 struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(enc.data, &v3); err != nil {
			t.Fatal(err)
		}
		got := published{Schemas: customOnly(v3.Components.Schemas), Paths: operationIDs(v3.Paths)}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("v3 %s differs from upstream (-want +got):\n%s", gv, diff)
		}
	}
}

// customOnly returns the definitions of the test's custom kinds, with the
// descriptions this package words differently from upstream replaced by
// "-".
func customOnly(defs map[string]any) map[string]any {
	out := map[string]any{}
	for name, s := range defs {
		if !strings.HasPrefix(name, "com.example.") {
			continue
		}
		hideMetaDescriptions(s)
		if strings.HasSuffix(name, "List") {
			m := s.(map[string]any)
			m["description"] = "-"
			m["properties"].(map[string]any)["items"].(map[string]any)["description"] = "-"
		}
		out[name] = s
	}
	return out
}

func hideMetaDescriptions(v any) {
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			for _, name := range []string{"apiVersion", "kind", "metadata"} {
				if p, ok := props[name].(map[string]any); ok && p["description"] != nil {
					p["description"] = "-"
				}
			}
		}
		for _, e := range v {
			hideMetaDescriptions(e)
		}
	case []any:
		for _, e := range v {
			hideMetaDescriptions(e)
		}
	}
}

// operationIDs maps the custom kinds' paths to their operation IDs by
// method.
func operationIDs(paths map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range paths {
		if !strings.Contains(path, ".example.com") {
			continue
		}
		ops := map[string]any{}
		for method, op := range item {
			if m, ok := op.(map[string]any); ok && m["operationId"] != nil {
				ops[method] = m["operationId"]
			}
		}
		out[path] = ops
	}
	return out
}

func schemaGVK(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}
