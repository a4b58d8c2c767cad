package openapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestNames(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[corev1.Pod]():                               "io.k8s.api.core.v1.Pod",
		reflect.TypeFor[metav1.ObjectMeta]():                        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
		reflect.TypeFor[intstr.IntOrString]():                       "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
		reflect.TypeFor[apiextensionsv1.CustomResourceDefinition](): "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
		reflect.TypeFor[widget]():                                   "com.github.tugcluster.tug.internal.apiserver.openapi.widget",
	} {
		if got := definitionName(typ); got != want {
			t.Errorf("definitionName(%v) = %q, want %q", typ, got, want)
		}
	}
	for _, tc := range []struct {
		gv                   schema.GroupVersion
		ident, tag, opPrefix string
		path                 string
	}{
		{schema.GroupVersion{Version: "v1"}, "Core", "core_v1", "CoreV1", "api/v1"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "Apps", "apps_v1", "AppsV1", "apis/apps/v1"},
		{
			schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"},
			"RbacAuthorization", "rbacAuthorization_v1", "RbacAuthorizationV1", "apis/rbac.authorization.k8s.io/v1",
		},
		{
			schema.GroupVersion{Group: "apiextensions.k8s.io", Version: "v1beta1"},
			"Apiextensions", "apiextensions_v1beta1", "ApiextensionsV1beta1", "apis/apiextensions.k8s.io/v1beta1",
		},
		{
			schema.GroupVersion{Group: "stable.example.com", Version: "v2"},
			"StableExampleCom", "stableExampleCom_v2", "StableExampleComV2", "apis/stable.example.com/v2",
		},
	} {
		got := []string{groupIdent(tc.gv.Group), tag(tc.gv), opPrefix(tc.gv), gvPath(tc.gv)}
		if diff := cmp.Diff([]string{tc.ident, tc.tag, tc.opPrefix, tc.path}, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.gv, diff)
		}
	}
}

// widget exercises the reflection rules on a type of this package.
type widget struct {
	metav1.TypeMeta `json:",inline"`
	// Embedded without a tag: inlined, as encoding/json does.
	gadget
	Name     string             `json:"name"`
	Size     *int64             `json:"size,omitempty"`
	Count    int32              `json:"count,omitzero"`
	Ratio    float64            `json:"ratio,omitempty"`
	Data     []byte             `json:"data,omitempty"`
	Labels   map[string]string  `json:"labels,omitempty"`
	Anything any                `json:"anything,omitempty"`
	Port     intstr.IntOrString `json:"port,omitempty"`
	Parts    []part             `json:"parts,omitempty" patchStrategy:"merge" patchMergeKey:"id"`
	Tags     []string           `json:"tags,omitempty" patchStrategy:"merge"`
	Options  *part              `json:"options,omitempty" patchStrategy:"retainKeys"`
	Children []widget           `json:"children,omitempty"`
	Inline   struct {
		On bool `json:"on"`
	} `json:"inline"`
	Skipped string `json:"-"`
	hidden  string
	NoTag   bool
}

type gadget struct {
	Color string `json:"color,omitempty"`
}

type part struct {
	ID string `json:"id"`
}

func (widget) SwaggerDoc() map[string]string {
	return map[string]string{"": "A widget.", "name": "The widget's name."}
}

// plain has no methods of its own: those of TypeMeta are promoted, and
// must not describe it.
type plain struct {
	metav1.TypeMeta `json:",inline"`
	Value           string `json:"value"`
}

func TestPromotedMethods(t *testing.T) {
	b := newBuilder()
	d := b.byName[b.define(reflect.TypeFor[plain]())]
	if d.v2.Description != "" {
		t.Errorf("description = %q, want none", d.v2.Description)
	}
	if got, want := d.v2.Properties["kind"].Description, (metav1.TypeMeta{}).SwaggerDoc()["kind"]; got != want {
		t.Errorf("kind description = %q", got)
	}
	if got := d.v2.Properties["value"].Description; got != "" {
		t.Errorf("value description = %q, want none", got)
	}
}

func TestReflection(t *testing.T) {
	_ = widget{hidden: "unexported fields are not published"}
	b := newBuilder()
	name := b.define(reflect.TypeFor[*widget]())
	if b.err != nil {
		t.Fatal(b.err)
	}
	data, err := json.Marshal(b.byName[name].v2)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	const prefix = "#/definitions/com.github.tugcluster.tug.internal.apiserver.openapi."
	want := map[string]any{
		"description": "A widget.",
		"type":        "object",
		"required":    []any{"name", "inline", "NoTag"},
		"properties": map[string]any{
			"apiVersion": map[string]any{"type": "string", "description": metav1.TypeMeta{}.SwaggerDoc()["apiVersion"]},
			"kind":       map[string]any{"type": "string", "description": metav1.TypeMeta{}.SwaggerDoc()["kind"]},
			"color":      map[string]any{"type": "string"},
			"name":       map[string]any{"type": "string", "description": "The widget's name."},
			"size":       map[string]any{"type": "integer", "format": "int64"},
			"count":      map[string]any{"type": "integer", "format": "int32"},
			"ratio":      map[string]any{"type": "number", "format": "double"},
			"data":       map[string]any{"type": "string", "format": "byte"},
			"labels":     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			"anything":   map[string]any{},
			"port":       map[string]any{"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
			"parts": map[string]any{
				"type": "array", "items": map[string]any{"$ref": prefix + "part"},
				"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id",
				"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": []any{"id"},
			},
			"tags": map[string]any{
				"type": "array", "items": map[string]any{"type": "string"},
				"x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set",
			},
			"options":  map[string]any{"$ref": prefix + "part", "x-kubernetes-patch-strategy": "retainKeys"},
			"children": map[string]any{"type": "array", "items": map[string]any{"$ref": prefix + "widget"}},
			"inline": map[string]any{
				"type": "object", "required": []any{"on"},
				"properties": map[string]any{"on": map[string]any{"type": "boolean"}},
			},
			"NoTag": map[string]any{"type": "boolean"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("widget schema (-want +got):\n%s", diff)
	}

	// The v3 form wraps references that have siblings in allOf.
	b.v3Schemas()
	data, err = json.Marshal(b.byName[name].v3.Properties["options"])
	if err != nil {
		t.Fatal(err)
	}
	const wantOptions = `{"allOf":[{"$ref":"#/components/schemas/com.github.tugcluster.tug.internal.apiserver.openapi.part"}],` +
		`"x-kubernetes-patch-strategy":"retainKeys"}`
	if string(data) != wantOptions {
		t.Errorf("v3 options = %s, want %s", data, wantOptions)
	}
}

func TestNewRejects(t *testing.T) {
	pod := Kind{
		GVK:  corev1.SchemeGroupVersion.WithKind("Pod"),
		Type: reflect.TypeFor[corev1.Pod](), Resource: "pods", Verbs: []string{"get"},
	}
	for name, mutate := range map[string]func(k *Kind){
		"no kind":           func(k *Kind) { k.GVK.Kind = "" },
		"no version":        func(k *Kind) { k.GVK.Version = "" },
		"no type":           func(k *Kind) { k.Type = nil },
		"type not a struct": func(k *Kind) { k.Type = reflect.TypeFor[string]() },
		"list not a struct": func(k *Kind) { k.ListType = reflect.TypeFor[[]corev1.Pod]() },
		"no resource":       func(k *Kind) { k.Resource = "" },
		"resource path":     func(k *Kind) { k.Resource = "pods/status" },
		"subresource name":  func(k *Kind) { k.Subresources = []Subresource{{Name: ""}} },
	} {
		k := pod
		mutate(&k)
		if _, err := New([]Kind{k}); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New([]Kind{pod, pod}); err == nil {
		t.Error("the same resource twice: New succeeded")
	}
	if _, err := New([]Kind{pod}); err != nil {
		t.Errorf("New(pod): %v", err)
	}
}

// v2Doc is the part of the v2 document the path tests read.
type v2Doc struct {
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type v2Op struct {
	ID         string            `json:"operationId"`
	Action     string            `json:"x-kubernetes-action"`
	GVK        map[string]string `json:"x-kubernetes-group-version-kind"`
	Parameters []struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
	} `json:"parameters"`
	Consumes []string `json:"consumes"`
}

func TestPaths(t *testing.T) {
	o := newBuiltin(t)
	enc, err := o.v2.json()
	if err != nil {
		t.Fatal(err)
	}
	var doc v2Doc
	if err := json.Unmarshal(enc.data, &doc); err != nil {
		t.Fatal(err)
	}
	// ops returns "method action operationId" for each operation of path.
	ops := func(path string) []string {
		var out []string
		for method, raw := range doc.Paths[path] {
			if method == "parameters" {
				continue
			}
			var op v2Op
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			out = append(out, method+" "+op.Action+" "+op.ID)
		}
		slices.Sort(out)
		return out
	}
	for path, want := range map[string][]string{
		"/api/v1/namespaces/{namespace}/pods": {
			"delete deletecollection deleteCoreV1CollectionNamespacedPod",
			"get list listCoreV1NamespacedPod",
			"post post createCoreV1NamespacedPod",
		},
		"/api/v1/namespaces/{namespace}/pods/{name}": {
			"delete delete deleteCoreV1NamespacedPod",
			"get get readCoreV1NamespacedPod",
			"patch patch patchCoreV1NamespacedPod",
			"put put replaceCoreV1NamespacedPod",
		},
		"/api/v1/pods":       {"get list listCoreV1PodForAllNamespaces"},
		"/api/v1/watch/pods": {"get watchlist watchCoreV1PodListForAllNamespaces"},
		"/api/v1/watch/namespaces/{namespace}/pods/{name}":              {"get watch watchCoreV1NamespacedPod"},
		"/api/v1/namespaces/{namespace}/pods/{name}/status":             {"get get readCoreV1NamespacedPodStatus", "patch patch patchCoreV1NamespacedPodStatus", "put put replaceCoreV1NamespacedPodStatus"},
		"/api/v1/namespaces/{namespace}/pods/{name}/eviction":           {"post post createCoreV1NamespacedPodEviction"},
		"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale": {"get get readAppsV1NamespacedDeploymentScale", "patch patch patchAppsV1NamespacedDeploymentScale", "put put replaceAppsV1NamespacedDeploymentScale"},
		"/api/v1/nodes/{name}":                                          {"delete delete deleteCoreV1Node", "get get readCoreV1Node", "patch patch patchCoreV1Node", "put put replaceCoreV1Node"},
		"/apis/authentication.k8s.io/v1/tokenreviews":                   {"post post createAuthenticationV1TokenReview"},
		"/apis/authentication.k8s.io/v1/tokenreviews/{name}":            nil,
		"/api/v1/namespaces/{namespace}/pods/{name}/exec":               nil,
	} {
		if diff := cmp.Diff(want, ops(path)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}

	var patch v2Op
	if err := json.Unmarshal(doc.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"], &patch); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"group": "autoscaling", "version": "v1", "kind": "Scale"}, patch.GVK); diff != "" {
		t.Errorf("scale GVK (-want +got):\n%s", diff)
	}
	var refs []string
	for _, p := range patch.Parameters {
		refs = append(refs, p.Ref+p.Name)
	}
	wantRefs := []string{"body", "#/parameters/dryRun", "#/parameters/fieldManager", "#/parameters/fieldValidation", "#/parameters/force"}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("patch parameters (-want +got):\n%s", diff)
	}
	if !slices.Contains(patch.Consumes, "application/apply-patch+yaml") {
		t.Errorf("patch consumes %v", patch.Consumes)
	}

	// Operation IDs are unique, as code generators expect.
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op v2Op
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			if other, dup := ids[op.ID]; dup {
				t.Errorf("operation %s is both %s and %s %s", op.ID, other, method, path)
			}
			ids[op.ID] = method + " " + path
		}
	}
}

// TestV2References checks that every reference of the v2 document
// resolves.
func TestV2References(t *testing.T) {
	o := newBuiltin(t)
	enc, err := o.v2.json()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]any `json:"definitions"`
		Parameters  map[string]any `json:"parameters"`
		Paths       map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(enc.data, &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc.Definitions)
	walk(doc.Paths)
	for _, ref := range refs {
		if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
			if _, found := doc.Definitions[name]; !found {
				t.Errorf("%s does not resolve", ref)
			}
		} else if name, ok := strings.CutPrefix(ref, "#/parameters/"); ok {
			if _, found := doc.Parameters[name]; !found {
				t.Errorf("%s does not resolve", ref)
			}
		} else {
			t.Errorf("unexpected reference %s", ref)
		}
	}
}

// TestCustomMarshalers lists the reachable types that write their own
// JSON without saying what it looks like (OpenAPISchemaType): each must
// be described right by its fields or by hand, so a new one is a signal.
func TestCustomMarshalers(t *testing.T) {
	b := newBuilder()
	for _, k := range builtinKinds(t) {
		b.define(k.Type)
		if k.ListType != nil {
			b.define(k.ListType)
		}
	}
	marshaler := reflect.TypeFor[json.Marshaler]()
	var got []string
	for typ, d := range b.byType {
		if _, leaf := as[schemaTyper](typ); leaf {
			continue
		}
		if typ.Implements(marshaler) || reflect.PointerTo(typ).Implements(marshaler) {
			got = append(got, d.name)
		}
	}
	slices.Sort(got)
	want := []string{
		// Objects of any content: published as type object.
		"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
		"io.k8s.apimachinery.pkg.runtime.RawExtension",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("custom JSON types (-want +got):\n%s", diff)
	}
}

// definitionDocs are the descriptions of a definition and its fields.
type definitionDocs struct {
	Description string `json:"description"`
	Properties  map[string]struct {
		Description string `json:"description"`
	} `json:"properties"`
}

// TestHandWrittenDescriptions checks that every hand-written description
// lands on a published definition or field.
func TestHandWrittenDescriptions(t *testing.T) {
	o := newBuiltin(t)
	defs := map[string]definitionDocs{}
	for name, raw := range decodeV2(t, o) {
		var d definitionDocs
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		defs[name] = d
	}
	// Duration is not reached by the built-in kinds.
	b := newBuilder()
	duration := b.byName[b.define(reflect.TypeFor[metav1.Duration]())]
	defs[duration.name] = definitionDocs{Description: duration.v2.Description}

	for name, desc := range typeDescriptions {
		if got := defs[name].Description; got != desc {
			t.Errorf("%s: description %q, want the hand-written one", name, got)
		}
	}
	for name, fields := range fieldDescriptions {
		for field, desc := range fields {
			if got := defs[name].Properties[field].Description; got != desc {
				t.Errorf("%s.%s: description %q, want the hand-written one", name, field, got)
			}
		}
	}
}
