package tables

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// The expectations below were recorded from kube-apiserver v1.37.2
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) for the same
// CRD columns and objects.

func unstructuredFrom(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := utiljson.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func col(name, typ, jsonPath string) apiextensionsv1.CustomResourceColumnDefinition {
	return apiextensionsv1.CustomResourceColumnDefinition{Name: name, Type: typ, JSONPath: jsonPath}
}

func TestCustomResourceCells(t *testing.T) {
	created := ago(time.Second).UTC().Format(time.RFC3339)
	started := ago(59 * time.Minute).UTC().Format(time.RFC3339)
	widgetCols := []apiextensionsv1.CustomResourceColumnDefinition{
		{Name: "Size", Type: "integer", JSONPath: ".spec.size", Description: "the size"},
		col("Mode", "string", ".spec.mode"), col("Ratio", "number", ".spec.ratio"),
		col("Enabled", "boolean", ".spec.enabled"), col("Started", "date", ".status.startTime"),
		{Name: "Labels", Type: "string", JSONPath: ".metadata.labels", Priority: 1},
		{Name: "Ports", Type: "string", JSONPath: ".spec.ports[*].containerPort", Priority: 1},
		{Name: "Missing", Type: "string", JSONPath: ".spec.nothere", Priority: 1, Format: "byte"},
		col("Age", "date", ".metadata.creationTimestamp"),
	}
	gadgetCols := []apiextensionsv1.CustomResourceColumnDefinition{
		col("IntFromStr", "integer", ".s"), col("IntFromFloat", "integer", ".f"), col("NumFromInt", "number", ".i"),
		col("StrFromFloat", "string", ".f"), col("StrFromBool", "string", ".b"), col("StrFromList", "string", ".l"),
		col("StrFromNull", "string", ".n"), col("BoolFromStr", "boolean", ".s"), col("DateBad", "date", ".s"),
		col("DateInt", "date", ".i"), col("BigFloat", "number", ".big"), col("BigStr", "string", ".big"),
	}
	gadget := `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g1","creationTimestamp":"` + created + `"},
		"s":"text","f":2.7,"i":3,"b":true,"l":["x",1],"n":null,"big":12345678.5}`
	for _, tc := range []struct {
		name string
		cols []apiextensionsv1.CustomResourceColumnDefinition
		obj  string
		want []any
	}{
		{"widget", widgetCols, `{"apiVersion":"example.com/v1","kind":"Widget",
			"metadata":{"name":"good","labels":{"a":"b"},"creationTimestamp":"` + created + `"},
			"spec":{"size":4,"mode":"fast","ratio":0.5,"enabled":false,"ports":[{"containerPort":80},{"containerPort":443}]},
			"status":{"startTime":"` + started + `"}}`,
			[]any{"good", int64(4), "fast", 0.5, false, "59m", `{"a":"b"}`, "80", nil, "1s"}},
		{"mismatched types", gadgetCols, gadget,
			[]any{"g1", nil, int64(2), float64(3), "2.7", "true", `["x",1]`, "<no value>", nil, "<invalid>", nil, 12345678.5, "1.23456785e+07"}},
		{"no columns", nil, gadget, []any{"g1", "1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table, err := CustomResource(unstructuredFrom(t, tc.obj), tc.cols, Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, table.Rows[0].Cells); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			if got := len(table.ColumnDefinitions); got != len(tc.want) {
				t.Errorf("%d columns for %d cells", got, len(tc.want))
			}
		})
	}
}

func TestCustomResourceColumns(t *testing.T) {
	cols := []apiextensionsv1.CustomResourceColumnDefinition{
		{Name: "Size", Type: "integer", JSONPath: ".spec.size", Description: "the size"},
		{Name: "Missing", Type: "string", JSONPath: ".spec.nothere", Priority: 1, Format: "byte"},
	}
	table, err := CustomResource(&unstructured.UnstructuredList{}, cols, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Size", Type: "integer", Description: "the size"},
		{Name: "Missing", Type: "string", Format: "byte", Priority: 1,
			Description: "Custom resource definition column (in JSONPath format): .spec.nothere"},
	}
	if diff := cmp.Diff(want, table.ColumnDefinitions); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(want[0].Description, "Name must be unique within a namespace.") {
		t.Errorf("name description = %q", want[0].Description)
	}

	table, err = CustomResource(&unstructured.UnstructuredList{}, nil, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.ColumnDefinitions[1]; got.Name != "Age" || got.Type != "date" || !strings.HasPrefix(got.Description, "CreationTimestamp is a timestamp") {
		t.Errorf("default age column = %+v", got)
	}
	if _, err := CustomResource(&unstructured.UnstructuredList{}, []apiextensionsv1.CustomResourceColumnDefinition{col("Bad", "string", ".spec[")}, Options{}, now); err == nil {
		t.Error("a bad jsonPath converted without error")
	}
}

func TestCustomResourceListAndOptions(t *testing.T) {
	remaining := int64(3)
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "WidgetList"}}
	list.SetResourceVersion("220")
	list.SetContinue("token")
	list.SetRemainingItemCount(&remaining)
	for _, name := range []string{"a", "b"} {
		list.Items = append(list.Items, *unstructuredFrom(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"`+name+`","resourceVersion":"7"},"spec":{"size":1}}`))
	}
	cols := []apiextensionsv1.CustomResourceColumnDefinition{col("Size", "integer", ".spec.size")}

	table, err := CustomResource(list, cols, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(metav1.ListMeta{ResourceVersion: "220", Continue: "token", RemainingItemCount: &remaining}, table.ListMeta); diff != "" {
		t.Errorf("list meta (-want +got):\n%s", diff)
	}
	if len(table.Rows) != 2 || table.Rows[1].Cells[0] != "b" {
		t.Fatalf("rows = %+v", table.Rows)
	}
	partial, ok := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata)
	if !ok || partial.Kind != "PartialObjectMetadata" || partial.Name != "a" {
		t.Errorf("default row object = %#v, want PartialObjectMetadata", table.Rows[0].Object.Object)
	}

	table, err = CustomResource(list, cols, Options{NoHeaders: true, IncludeObject: metav1.IncludeNone}, now)
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil || table.Rows[0].Object.Object != nil {
		t.Errorf("noHeaders/None: columns %v, object %v", table.ColumnDefinitions, table.Rows[0].Object.Object)
	}

	table, err = CustomResource(&list.Items[0], cols, Options{IncludeObject: metav1.IncludeObject}, now)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := table.Rows[0].Object.Object.(*unstructured.Unstructured); !ok || u.GetKind() != "Widget" || table.ResourceVersion != "7" {
		t.Errorf("Object row = %#v, resourceVersion %q", table.Rows[0].Object.Object, table.ResourceVersion)
	}
	if _, err := CustomResource(list, cols, Options{IncludeObject: "Bogus"}, now); err == nil {
		t.Error("a bogus includeObject converted without error")
	}
}
