package tables

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestEveryPrinterHandlesEmptyObjects converts the zero object of every
// kind: no panic, and one cell per column of a type the column allows.
func TestEveryPrinterHandlesEmptyObjects(t *testing.T) {
	allowed := map[string]func(any) bool{
		"string":  func(v any) bool { _, ok := v.(string); return ok },
		"integer": func(v any) bool { _, isInt := v.(int64); _, isString := v.(string); return isInt || isString },
		"boolean": func(v any) bool { _, isBool := v.(bool); _, isString := v.(string); return isBool || isString },
		"date":    func(v any) bool { _, ok := v.(string); return ok },
	}
	for gvk, p := range printers().byGVK {
		t.Run(gvk.String(), func(t *testing.T) {
			var obj runtime.Object = &unstructured.Unstructured{Object: map[string]any{}}
			if p.newObject != nil {
				obj = p.newObject()
			}
			obj.GetObjectKind().SetGroupVersionKind(gvk)
			table, err := Convert(obj, Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			cells := table.Rows[0].Cells
			if len(cells) != len(table.ColumnDefinitions) {
				t.Fatalf("%d cells for %d columns", len(cells), len(table.ColumnDefinitions))
			}
			for i, c := range table.ColumnDefinitions {
				if ok := allowed[c.Type]; ok == nil || !ok(cells[i]) {
					t.Errorf("column %q of type %q holds %T", c.Name, c.Type, cells[i])
				}
			}
		})
	}
}

func TestRegistryCoversServedKinds(t *testing.T) {
	// Every kind `kubectl get` shows with special columns has a printer.
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Pod"}, {Version: "v1", Kind: "Node"}, {Version: "v1", Kind: "Event"},
		{Group: "events.k8s.io", Version: "v1", Kind: "Event"}, {Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "batch", Version: "v1", Kind: "CronJob"}, {Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"},
		{Group: "flowcontrol.apiserver.k8s.io", Version: "v1", Kind: "PriorityLevelConfiguration"},
		{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"},
	} {
		if _, ok := printers().byGVK[gvk]; !ok {
			t.Errorf("no printer for %s", gvk)
		}
	}
}

// BenchmarkConvertPods converts a list of 10,000 running pods, the size
// of the list-latency benchmark.
func BenchmarkConvertPods(b *testing.B) {
	list := &corev1.PodList{}
	for i := range 10000 {
		list.Items = append(list.Items, *makePod(fmt.Sprintf("pod-%d", i)).phase(corev1.PodRunning).node("node-1").ip("10.0.0.1").containers(running("app")).obj())
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(list, Options{}, now); err != nil {
			b.Fatal(err)
		}
	}
}
