package tables

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// extensionPrinters are the printers of the kinds served by the
// extension servers, CustomResourceDefinition and APIService. Their Go
// types live outside k8s.io/api, so they print unstructured objects (or
// any object with JSON tags, converted to one).
func extensionPrinters() []*printer {
	return []*printer{
		unstructuredPrinter(
			schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"},
			columns(nameColumn(), createdAtColumn()),
			func(u *unstructured.Unstructured, _ time.Time) []any {
				return []any{u.GetName(), u.GetCreationTimestamp().UTC().Format(time.RFC3339)}
			}),
		unstructuredPrinter(
			schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"},
			columns(
				nameColumn(),
				strCol("Service", "The reference to the service that hosts this API endpoint."),
				strCol("Available", "Whether this service is available."),
				ageColumn(),
			),
			apiServiceCells),
	}
}

// unstructuredPrinter builds the printer of a kind known only by its
// group, version and kind.
func unstructuredPrinter(gvk schema.GroupVersionKind, cols []column, cells func(*unstructured.Unstructured, time.Time) []any) *printer {
	return &printer{
		gvk:     gvk,
		columns: cols,
		cells: func(obj runtime.Object, now time.Time) []any {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				u = &unstructured.Unstructured{}
				if m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err == nil {
					u.Object = m
				}
			}
			return cells(u, now)
		},
	}
}

// apiServiceCells shows where an API service is served (namespace/name of
// its service, or Local) and its Available condition: the status, with
// the reason in parentheses when it is not True.
func apiServiceCells(u *unstructured.Unstructured, now time.Time) []any {
	service := "Local"
	if name, ok, _ := unstructured.NestedString(u.Object, "spec", "service", "name"); ok {
		namespace, _, _ := unstructured.NestedString(u.Object, "spec", "service", "namespace")
		service = namespace + "/" + name
	}
	available := string(metav1.ConditionUnknown)
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		cond, ok := c.(map[string]any)
		if !ok || cond["type"] != "Available" {
			continue
		}
		status, _ := cond["status"].(string)
		reason, _ := cond["reason"].(string)
		available = status
		if status != string(metav1.ConditionTrue) && reason != "" {
			available = fmt.Sprintf("%s (%s)", status, reason)
		}
		break
	}
	return []any{u.GetName(), service, available, ageSince(u.GetCreationTimestamp(), now)}
}
