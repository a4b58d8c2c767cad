package openapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// widgetKind is a small custom kind of group example.com.
func widgetKind(version string) CustomKind {
	return CustomKind{
		GVK:      schemaGVK("example.com", version, "Widget"),
		ListKind: "WidgetList", Resource: "widgets", Namespaced: true, Verbs: resources.VerbsCRUD,
		Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"spec": {Type: "object", Description: "Spec of the widget."},
		}},
	}
}

// TestWithCustomVersions follows a CRD through the changes the
// conformance specs make: versions added, one renamed, one no longer
// served; each call starts from the built-in documents, which stay as
// they were.
func TestWithCustomVersions(t *testing.T) {
	base := newBuiltin(t)
	for _, tc := range []struct {
		name     string
		versions []string
	}{
		{"two versions", []string{"v2", "v3"}},
		{"v3 renamed v4", []string{"v2", "v4"}},
		{"v4 not served", []string{"v2"}},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var custom []CustomKind
			want := map[string]bool{}
			for _, v := range tc.versions {
				custom = append(custom, widgetKind(v))
				want["com.example."+v+".Widget"] = true
				want["com.example."+v+".WidgetList"] = true
			}
			o, err := base.WithCustom(custom)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for name := range decodeV2(t, o) {
				if strings.HasPrefix(name, "com.example.") {
					got[name] = true
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("v2 custom definitions (-want +got):\n%s", diff)
			}
			var gvs []string
			for _, key := range o.GroupVersions() {
				if strings.HasPrefix(key, "apis/example.com/") {
					gvs = append(gvs, key)
				}
			}
			var wantGVs []string
			for _, v := range tc.versions {
				wantGVs = append(wantGVs, "apis/example.com/"+v)
			}
			if diff := cmp.Diff(wantGVs, gvs); diff != "" {
				t.Errorf("v3 group-versions (-want +got):\n%s", diff)
			}
			for name := range want {
				if o.Schemas()[name] == nil {
					t.Errorf("Schemas() lacks %s", name)
				}
			}
		})
	}
	for name := range decodeV2(t, base) {
		if strings.HasPrefix(name, "com.example.") {
			t.Errorf("the built-in document gained %s", name)
		}
	}
	if _, ok := base.v3["apis/example.com/v2"]; ok {
		t.Error("the built-in documents gained apis/example.com/v2")
	}
}

// TestWithCustomShares checks what makes WithCustom cheap: the v3
// documents of untouched group-versions are o's own, encodings included.
func TestWithCustomShares(t *testing.T) {
	base := newBuiltin(t)
	o, err := base.WithCustom([]CustomKind{widgetKind("v1")})
	if err != nil {
		t.Fatal(err)
	}
	for key, d := range base.v3 {
		if o.v3[key] != d {
			t.Errorf("%s: the document was not reused", key)
		}
	}
	index := request(t, o, http.MethodGet, "/openapi/v3")
	var idx v3Index
	if err := json.Unmarshal(index.Body.Bytes(), &idx); err != nil {
		t.Fatal(err)
	}
	url := idx.Paths["apis/example.com/v1"].ServerRelativeURL
	if !strings.HasPrefix(url, "/openapi/v3/apis/example.com/v1?hash=") {
		t.Fatalf("index entry of example.com/v1 = %q", url)
	}
	if rec := request(t, o, http.MethodGet, url); rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, immutable" {
		t.Errorf("%s: code %d, Cache-Control %q", url, rec.Code, rec.Header().Get("Cache-Control"))
	}
}

// TestWithCustomMerges publishes a custom kind in a built-in group-version
// and one in a chained call: each v3 document holds all its kinds, and
// every reference resolves.
func TestWithCustomMerges(t *testing.T) {
	inApps := widgetKind("v1")
	inApps.GVK.Group = "apps"
	first, err := newBuiltin(t).WithCustom([]CustomKind{inApps})
	if err != nil {
		t.Fatal(err)
	}
	o, err := first.WithCustom([]CustomKind{widgetKind("v1")})
	if err != nil {
		t.Fatal(err)
	}
	apps := v3Document(t, o, "apis/apps/v1")
	for _, name := range []string{"io.k8s.api.apps.v1.Deployment", "apps.v1.Widget", "apps.v1.WidgetList"} {
		if apps.Components.Schemas[name] == nil {
			t.Errorf("apis/apps/v1 lacks %s", name)
		}
	}
	for _, path := range []string{"/apis/apps/v1/namespaces/{namespace}/deployments", "/apis/apps/v1/namespaces/{namespace}/widgets"} {
		if apps.Paths.Paths[path] == nil {
			t.Errorf("apis/apps/v1 lacks path %s", path)
		}
	}
	for _, key := range []string{"apis/apps/v1", "apis/example.com/v1"} {
		checkSelfContained(t, key, v3Document(t, o, key))
	}
	v2 := decodeV2(t, o)
	for _, name := range []string{"apps.v1.Widget", "com.example.v1.Widget"} {
		if v2[name] == nil {
			t.Errorf("v2 lacks %s", name)
		}
	}
}

func v3Document(t *testing.T, o *OpenAPI, key string) *spec3.OpenAPI {
	t.Helper()
	d, ok := o.v3[key]
	if !ok {
		t.Fatalf("no v3 document for %s", key)
	}
	enc, err := d.json()
	if err != nil {
		t.Fatal(err)
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(enc.data, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// TestWithCustomOnNothing publishes custom kinds on documents without
// kinds: the meta types and Scale are defined then.
func TestWithCustomOnNothing(t *testing.T) {
	empty, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	custom := customKinds(t, "crontabs.yaml")
	o, err := empty.WithCustom(custom)
	if err != nil {
		t.Fatal(err)
	}
	doc := v3Document(t, o, "apis/stable.example.com/v1")
	checkSelfContained(t, "apis/stable.example.com/v1", doc)
	scale := doc.Components.Schemas["io.k8s.api.autoscaling.v1.Scale"]
	if scale == nil || !hasGVK(scale.Extensions, schemaGVK("autoscaling", "v1", "Scale"), true) {
		t.Errorf("Scale is missing or has no kind: %v", scale)
	}
}

func TestWithCustomRejects(t *testing.T) {
	valid := widgetKind("v1")
	for _, tc := range []struct {
		name   string
		custom []CustomKind
		want   string
	}{
		{"no group", []CustomKind{func() CustomKind { k := valid; k.GVK.Group = ""; return k }()}, "are required"},
		{"no list kind", []CustomKind{func() CustomKind { k := valid; k.ListKind = ""; return k }()}, "are required"},
		{"list kind is kind", []CustomKind{func() CustomKind { k := valid; k.ListKind = "Widget"; return k }()}, "must differ"},
		{"bad resource", []CustomKind{func() CustomKind { k := valid; k.Resource = "a/b"; return k }()}, "invalid resource"},
		{"bad subresource", []CustomKind{func() CustomKind {
			k := valid
			k.Subresources = []Subresource{{Name: ""}}
			return k
		}()}, "invalid subresource"},
		{"resource twice", []CustomKind{valid, func() CustomKind { k := valid; k.GVK.Kind = "Gadget"; return k }()}, "published twice"},
		{"kind twice", []CustomKind{valid, func() CustomKind { k := valid; k.Resource = "gadgets"; return k }()}, "published twice"},
		{"built-in resource", []CustomKind{func() CustomKind {
			k := valid
			k.GVK = appsv1.SchemeGroupVersion.WithKind("Deployment")
			k.ListKind, k.Resource = "DeploymentList", "deployments"
			return k
		}()}, "published twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newBuiltin(t).WithCustom(tc.custom)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestWithCustomConcurrent serves the built-in documents and two sets of
// custom ones at once, while more are made; run with -race.
func TestWithCustomConcurrent(t *testing.T) {
	base, err := New(builtinKinds(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	serveAll := func(o *OpenAPI) {
		for _, target := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/apis/example.com/v1", "/openapi/v3/apis/apps/v1"} {
			wg.Go(func() { request(t, o, http.MethodGet, target) })
		}
	}
	serveAll(base)
	for range 2 {
		o, err := base.WithCustom([]CustomKind{widgetKind("v1")})
		if err != nil {
			t.Fatal(err)
		}
		serveAll(o)
	}
	wg.Wait()
}

// TestCustomSchemaForms covers what the upstream comparison does not:
// the forms of x-kubernetes-int-or-string and a missing schema.
func TestCustomSchemaForms(t *testing.T) {
	intOrStr := func(props apiextensionsv1.JSONSchemaProps) *apiextensionsv1.JSONSchemaProps {
		props.XIntOrString = true
		return &props
	}
	integer, str := apiextensionsv1.JSONSchemaProps{Type: "integer"}, apiextensionsv1.JSONSchemaProps{Type: "string"}
	for _, tc := range []struct {
		name   string
		props  *apiextensionsv1.JSONSchemaProps
		v3, v2 string
	}{
		{
			name: "int-or-string unfolds", props: intOrStr(apiextensionsv1.JSONSchemaProps{}),
			v3: `{"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true}`,
			v2: `{"x-kubernetes-int-or-string":true}`,
		},
		{
			name: "int-or-string spelled out", props: intOrStr(apiextensionsv1.JSONSchemaProps{AnyOf: intOrString}),
			v3: `{"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true}`,
			v2: `{"x-kubernetes-int-or-string":true}`,
		},
		{
			name: "int-or-string with another anyOf",
			props: intOrStr(apiextensionsv1.JSONSchemaProps{AnyOf: []apiextensionsv1.JSONSchemaProps{
				{Maximum: new(3.0)}, {Pattern: "^a"},
			}}),
			v3: `{"allOf":[{"anyOf":[{"type":"integer"},{"type":"string"}]}],"anyOf":[{"maximum":3},{"pattern":"^a"}],"x-kubernetes-int-or-string":true}`,
			v2: `{"x-kubernetes-int-or-string":true}`,
		},
		{
			name: "int-or-string in allOf",
			props: intOrStr(apiextensionsv1.JSONSchemaProps{AllOf: []apiextensionsv1.JSONSchemaProps{
				{AnyOf: []apiextensionsv1.JSONSchemaProps{integer, str}},
			}}),
			v3: `{"allOf":[{"anyOf":[{"type":"integer"},{"type":"string"}]}],"x-kubernetes-int-or-string":true}`,
			v2: `{"x-kubernetes-int-or-string":true}`,
		},
		{
			name: "nullable array", props: &apiextensionsv1.JSONSchemaProps{Type: "array", Nullable: true, Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &str}},
			v3: `{"type":"array","nullable":true,"items":{"type":"string"}}`,
			v2: `{}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v3 := crdSchema(tc.props, true)
			if diff := cmp.Diff(tc.v3, marshal(t, &v3)); diff != "" {
				t.Errorf("v3 (-want +got):\n%s", diff)
			}
			v2 := swagger2Schema(v3)
			if diff := cmp.Diff(tc.v2, marshal(t, &v2)); diff != "" {
				t.Errorf("v2 (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("no schema", func(t *testing.T) {
		k := widgetKind("v1")
		k.Schema = nil
		o, err := newBuiltin(t).WithCustom([]CustomKind{k})
		if err != nil {
			t.Fatal(err)
		}
		d := o.b.byName["com.example.v1.Widget"]
		if got := marshal(t, &d.v2); got != `{"type":"object","x-kubernetes-group-version-kind":[{"group":"example.com","kind":"Widget","version":"v1"}]}` {
			t.Errorf("v2 = %s", got)
		}
		if !hasTrue(d.v3.Extensions, extPreserveUnknown) || d.v3.Properties["metadata"].AllOf == nil {
			t.Errorf("v3 = %s", marshal(t, d.v3))
		}
	})
}

func marshal(t *testing.T, s *spec.Schema) string {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
