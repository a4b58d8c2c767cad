package openapi

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	openapiproto "k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

// serve starts an HTTP server for o and returns a discovery client of it.
func serve(t *testing.T, o *OpenAPI) *discovery.DiscoveryClient {
	t.Helper()
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// TestOpenAPIV2Protobuf fetches /openapi/v2 as kubectl does (protobuf)
// and reads it with the models kubectl explain and apply use.
func TestOpenAPIV2Protobuf(t *testing.T) {
	o := newBuiltin(t)
	doc, err := serve(t, o).OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	models, err := openapiproto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}

	pod, ok := models.LookupModel("io.k8s.api.core.v1.Pod").(*openapiproto.Kind)
	if !ok {
		t.Fatalf("Pod model is %T, want a Kind", models.LookupModel("io.k8s.api.core.v1.Pod"))
	}
	if !strings.Contains(pod.GetDescription(), "collection of containers") {
		t.Errorf("Pod description = %q", pod.GetDescription())
	}
	spec, ok := pod.Fields["spec"].(*openapiproto.Ref)
	if !ok {
		t.Fatalf("Pod.spec is %T, want a Ref", pod.Fields["spec"])
	}
	if !strings.Contains(spec.GetDescription(), "desired behavior of the pod") {
		t.Errorf("Pod.spec description = %q", spec.GetDescription())
	}
	podSpec, ok := spec.SubSchema().(*openapiproto.Kind)
	if !ok {
		t.Fatalf("PodSpec is %T", spec.SubSchema())
	}
	if !podSpec.IsRequired("containers") {
		t.Errorf("PodSpec.containers is not required")
	}
	containers, ok := podSpec.Fields["containers"].(*openapiproto.Array)
	if !ok {
		t.Fatalf("PodSpec.containers is %T", podSpec.Fields["containers"])
	}
	if got := containers.GetExtensions()[extPatchMergeKey]; got != "name" {
		t.Errorf("containers patch merge key = %v", got)
	}

	// Every published kind is found by its x-kubernetes-group-version-kind,
	// as kubectl's openapi.Resources looks kinds up.
	byGVK := map[schema.GroupVersionKind][]string{}
	for _, name := range models.ListModels() {
		list, _ := models.LookupModel(name).GetExtensions()[extGVK].([]any)
		for _, item := range list {
			m, _ := item.(map[any]any)
			gvk := schema.GroupVersionKind{Group: str(m["group"]), Version: str(m["version"]), Kind: str(m["kind"])}
			byGVK[gvk] = append(byGVK[gvk], name)
		}
	}
	for _, k := range builtinKinds(t) {
		if names := byGVK[k.GVK]; len(names) != 1 {
			t.Errorf("%v is the kind of models %v, want exactly one", k.GVK, names)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestOpenAPIV3Client reads every group-version through client-go's
// OpenAPI v3 client, in JSON and protobuf, and checks that each document
// is self-contained.
func TestOpenAPIV3Client(t *testing.T) {
	o := newBuiltin(t)
	client := serve(t, o).OpenAPIV3()
	paths, err := client.Paths()
	if err != nil {
		t.Fatalf("Paths: %v", err)
	}
	var keys []string
	for key := range paths {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if diff := cmp.Diff(o.GroupVersions(), keys); diff != "" {
		t.Errorf("index paths (-want +got):\n%s", diff)
	}
	for _, want := range []string{"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("index has no %s", want)
		}
	}

	for key, gv := range paths {
		data, err := gv.Schema("application/json")
		if err != nil {
			t.Fatalf("%s: Schema: %v", key, err)
		}
		var doc spec3.OpenAPI
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		checkSelfContained(t, key, &doc)

		pb, err := gv.Schema(openapi.ContentTypeOpenAPIV3PB)
		if err != nil {
			t.Fatalf("%s: protobuf Schema: %v", key, err)
		}
		var pdoc openapi_v3.Document
		if err := proto.Unmarshal(pb, &pdoc); err != nil {
			t.Fatalf("%s: protobuf: %v", key, err)
		}
		if got, want := len(pdoc.GetComponents().GetSchemas().GetAdditionalProperties()), len(doc.Components.Schemas); got != want {
			t.Errorf("%s: protobuf has %d schemas, JSON %d", key, got, want)
		}
	}

	// kubectl explain finds the kind's schema by its GVK.
	root := openapi3.NewRoot(client)
	doc, err := root.GVSpec(appsv1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for name, s := range doc.Components.Schemas {
		if hasGVK(s.Extensions, appsv1.SchemeGroupVersion.WithKind("Deployment"), true) {
			found = append(found, name)
		}
	}
	if diff := cmp.Diff([]string{"io.k8s.api.apps.v1.Deployment"}, found); diff != "" {
		t.Errorf("schemas of kind Deployment (-want +got):\n%s", diff)
	}
}

// checkSelfContained fails unless every reference in doc resolves to one
// of its component schemas.
func checkSelfContained(t *testing.T, key string, doc *spec3.OpenAPI) {
	t.Helper()
	var refs []string
	for _, s := range doc.Components.Schemas {
		refs = appendRefs(refs, s)
	}
	for _, p := range doc.Paths.Paths {
		for _, op := range []*spec3.Operation{p.Get, p.Put, p.Post, p.Patch, p.Delete} {
			if op == nil {
				continue
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					refs = appendRefs(refs, mt.Schema)
				}
			}
			for _, resp := range op.Responses.StatusCodeResponses {
				for _, mt := range resp.Content {
					refs = appendRefs(refs, mt.Schema)
				}
			}
		}
	}
	if len(refs) == 0 {
		t.Errorf("%s: no references at all", key)
	}
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, v3RefPrefix)
		if _, found := doc.Components.Schemas[name]; !ok || !found {
			t.Errorf("%s: reference %s does not resolve", key, ref)
		}
	}
}

func appendRefs(refs []string, s *spec.Schema) []string {
	if s == nil {
		return refs
	}
	if r := s.Ref.String(); r != "" {
		refs = append(refs, r)
	}
	for _, p := range s.Properties {
		refs = appendRefs(refs, &p)
	}
	for i := range s.AllOf {
		refs = appendRefs(refs, &s.AllOf[i])
	}
	if s.Items != nil {
		refs = appendRefs(refs, s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		refs = appendRefs(refs, s.AdditionalProperties.Schema)
	}
	return refs
}

// hasGVK reports whether the x-kubernetes-group-version-kind extension
// names gvk: a list on schemas, a single object on operations.
func hasGVK(ext spec.Extensions, gvk schema.GroupVersionKind, list bool) bool {
	var items []map[string]string
	if list {
		if err := ext.GetObject(extGVK, &items); err != nil {
			return false
		}
	} else {
		var item map[string]string
		if err := ext.GetObject(extGVK, &item); err != nil {
			return false
		}
		items = append(items, item)
	}
	for _, m := range items {
		if m["group"] == gvk.Group && m["version"] == gvk.Version && m["kind"] == gvk.Kind {
			return true
		}
	}
	return false
}

// TestFieldValidationSupported checks what kubectl checks before it asks
// the server to validate fields: that the PATCH operation of the kind
// takes a fieldValidation query parameter (v3 for kubectl ≥ 1.27, v2
// before), and that it accepts strategic merge patches (kubectl apply).
func TestFieldValidationSupported(t *testing.T) {
	o := newBuiltin(t)
	dc := serve(t, o)
	root := openapi3.NewRoot(dc.OpenAPIV3())
	v2, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range []schema.GroupVersionKind{
		corev1.SchemeGroupVersion.WithKind("Namespace"),
		corev1.SchemeGroupVersion.WithKind("ConfigMap"),
		appsv1.SchemeGroupVersion.WithKind("Deployment"),
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"},
	} {
		t.Run(gvk.Kind, func(t *testing.T) {
			doc, err := root.GVSpec(gvk.GroupVersion())
			if err != nil {
				t.Fatal(err)
			}
			var patch *spec3.Operation
			for _, p := range doc.Paths.Paths {
				if p.Patch != nil && hasGVK(p.Patch.Extensions, gvk, false) {
					patch = p.Patch
					break
				}
			}
			if patch == nil {
				t.Fatal("v3: no PATCH operation for the kind")
			}
			if !slices.ContainsFunc(patch.Parameters, func(p *spec3.Parameter) bool {
				return p.Name == "fieldValidation" && p.In == "query"
			}) {
				t.Error("v3: PATCH has no fieldValidation query parameter")
			}
			if _, ok := patch.RequestBody.Content["application/strategic-merge-patch+json"]; !ok {
				t.Error("v3: PATCH does not take strategic merge patches")
			}
			if !v2SupportsParam(v2, gvk, "fieldValidation") {
				t.Error("v2: PATCH has no fieldValidation query parameter")
			}
		})
	}
}

// v2SupportsParam follows kubectl's check on the v2 document: the PATCH
// operation of gvk lists the query parameter, inline or by reference.
func v2SupportsParam(doc *openapi_v2.Document, gvk schema.GroupVersionKind, name string) bool {
	global := map[string]*openapi_v2.NamedParameter{}
	for _, p := range doc.GetParameters().GetAdditionalProperties() {
		global["#/parameters/"+p.GetName()] = p
	}
	for _, path := range doc.GetPaths().GetPath() {
		patch := path.GetValue().GetPatch()
		var ext spec.Extensions
		for _, e := range patch.GetVendorExtension() {
			if e.GetName() == extGVK {
				var m map[string]string
				if yaml.Unmarshal([]byte(e.GetValue().GetYaml()), &m) == nil {
					ext = spec.Extensions{extGVK: map[string]any{"group": m["group"], "version": m["version"], "kind": m["kind"]}}
				}
			}
		}
		if !hasGVK(ext, gvk, false) {
			continue
		}
		for _, p := range patch.GetParameters() {
			if p.GetParameter().GetNonBodyParameter().GetQueryParameterSubSchema().GetName() == name {
				return true
			}
			if g, ok := global[p.GetJsonReference().GetXRef()]; ok &&
				g.GetValue().GetNonBodyParameter().GetQueryParameterSubSchema().GetName() == name {
				return true
			}
		}
		return false
	}
	return false
}

// TestStrategicMergePatchMetadata computes a three-way strategic merge
// patch of a Pod as kubectl apply does, from the v3 and the v2 documents,
// and compares it with the one computed from the Go struct tags.
func TestStrategicMergePatchMetadata(t *testing.T) {
	o := newBuiltin(t)
	dc := serve(t, o)
	original := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","finalizers":["a"]},
		"spec":{"containers":[{"name":"a","image":"x","ports":[{"containerPort":80}]},{"name":"b","image":"x"}],
		"volumes":[{"name":"v","emptyDir":{}}]}}`)
	modified := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","finalizers":["a","b"]},
		"spec":{"containers":[{"name":"a","image":"y","ports":[{"containerPort":81}]},{"name":"c","image":"x"}],
		"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}`)
	current := original

	fromStruct, err := strategicpatch.NewPatchMetaFromStruct(&corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := strategicpatch.CreateThreeWayMergePatch(original, modified, current, fromStruct, true)
	if err != nil {
		t.Fatal(err)
	}

	doc, err := openapi3.NewRoot(dc.OpenAPIV3()).GVSpec(corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	v3Meta := strategicpatch.PatchMetaFromOpenAPIV3{
		Schema:     doc.Components.Schemas["io.k8s.api.core.v1.Pod"],
		SchemaList: doc.Components.Schemas,
	}
	got, err := strategicpatch.CreateThreeWayMergePatch(original, modified, current, v3Meta, true)
	if err != nil {
		t.Fatalf("v3: %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("patch from v3 (-struct +openapi):\n%s", diff)
	}

	v2, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatal(err)
	}
	models, err := openapiproto.NewOpenAPIData(v2)
	if err != nil {
		t.Fatal(err)
	}
	v2Meta := strategicpatch.NewPatchMetaFromOpenAPI(models.LookupModel("io.k8s.api.core.v1.Pod"))
	got, err = strategicpatch.CreateThreeWayMergePatch(original, modified, current, v2Meta, true)
	if err != nil {
		t.Fatalf("v2: %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("patch from v2 (-struct +openapi):\n%s", diff)
	}
	if !strings.Contains(string(want), "$setElementOrder/containers") {
		t.Errorf("patch %s is not a strategic one", want)
	}
}
