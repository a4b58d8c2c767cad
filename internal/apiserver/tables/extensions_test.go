package tables

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestExtensionKinds(t *testing.T) {
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com", "creationTimestamp": "2025-05-01T10:00:00Z"},
	}}
	table, err := Convert(crd, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"widgets.example.com", "2025-05-01T10:00:00Z"}, table.Rows[0].Cells); diff != "" {
		t.Errorf("crd cells (-want +got):\n%s", diff)
	}

	apiService := func(name string, spec, status map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
			"metadata": map[string]any{"name": name, "creationTimestamp": ago(5 * time.Minute).UTC().Format(time.RFC3339)},
			"spec":     spec, "status": status,
		}}
	}
	for _, tc := range []struct {
		obj  *unstructured.Unstructured
		want []any
	}{
		{apiService("v1.apps", map[string]any{}, map[string]any{"conditions": []any{map[string]any{"type": "Available", "status": "True", "reason": "Local"}}}),
			[]any{"v1.apps", "Local", "True", "5m"}},
		{apiService("v1beta1.metrics.k8s.io", map[string]any{"service": map[string]any{"namespace": "kube-system", "name": "metrics-server"}},
			map[string]any{"conditions": []any{map[string]any{"type": "Available", "status": "False", "reason": "MissingEndpoints"}}}),
			[]any{"v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (MissingEndpoints)", "5m"}},
		{apiService("v1.new", map[string]any{}, map[string]any{}), []any{"v1.new", "Local", "Unknown", "5m"}},
	} {
		table, err := Convert(tc.obj, Options{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, table.Rows[0].Cells); diff != "" {
			t.Errorf("%s cells (-want +got):\n%s", tc.obj.GetName(), diff)
		}
	}
}
