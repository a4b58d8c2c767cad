package tables

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func columnNames(table *metav1.Table) []string {
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	return names
}

func TestConvertShape(t *testing.T) {
	pod := makePod("web").obj()
	pod.ResourceVersion = "42"
	table, err := Convert(pod, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if table.APIVersion != "meta.k8s.io/v1" || table.Kind != "Table" {
		t.Errorf("type meta = %+v", table.TypeMeta)
	}
	if table.ResourceVersion != "42" {
		t.Errorf("resourceVersion = %q, want the object's 42", table.ResourceVersion)
	}
	want := []string{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"}
	if diff := cmp.Diff(want, columnNames(table)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	table.ColumnDefinitions[0].Name = "changed"
	if podColumns[0].Name != "Name" {
		t.Error("the table shares its column definitions with the printer")
	}
}

func TestConvertNoHeaders(t *testing.T) {
	table, err := Convert(&corev1.PodList{Items: []corev1.Pod{*makePod("a").obj()}}, Options{NoHeaders: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil {
		t.Errorf("column definitions with noHeaders: %v", columnNames(table))
	}
	if len(table.Rows) != 1 || len(table.Rows[0].Cells) != len(podColumns) {
		t.Errorf("rows = %+v", table.Rows)
	}
}

func TestConvertListMeta(t *testing.T) {
	remaining := int64(17)
	list := &corev1.ConfigMapList{
		ListMeta: metav1.ListMeta{ResourceVersion: "99", Continue: "token", RemainingItemCount: &remaining},
	}
	table, err := Convert(list, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := metav1.ListMeta{ResourceVersion: "99", Continue: "token", RemainingItemCount: &remaining}
	if diff := cmp.Diff(want, table.ListMeta); diff != "" {
		t.Errorf("list meta (-want +got):\n%s", diff)
	}
	if got := columnNames(table); len(got) != 3 || got[1] != "Data" {
		t.Errorf("an empty list has the kind's columns; got %v", got)
	}
	if table.Rows == nil || len(table.Rows) != 0 {
		t.Errorf("rows = %#v, want an empty, non-nil slice", table.Rows)
	}
}

func TestConvertIncludeObject(t *testing.T) {
	pod := makePod("web").obj()
	pod.Labels = map[string]string{"app": "web"}
	pod.UID = "u-1"
	for _, tc := range []struct {
		policy metav1.IncludeObjectPolicy
		want   runtime.Object
	}{
		{metav1.IncludeNone, nil},
		{"", &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}, ObjectMeta: pod.ObjectMeta}},
		{metav1.IncludeMetadata, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}, ObjectMeta: pod.ObjectMeta}},
		{metav1.IncludeObject, func() runtime.Object {
			p := pod.DeepCopy()
			p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
			return p
		}()},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			table, err := Convert(pod, Options{IncludeObject: tc.policy}, now)
			if err != nil {
				t.Fatal(err)
			}
			raw := table.Rows[0].Object
			if raw.Raw != nil {
				t.Errorf("Raw is set: %s", raw.Raw)
			}
			if diff := cmp.Diff(tc.want, raw.Object); diff != "" {
				t.Errorf("row object (-want +got):\n%s", diff)
			}
			if pod.Kind != "" {
				t.Error("Convert set the kind of its input")
			}
		})
	}
	if _, err := Convert(pod, Options{IncludeObject: "Everything"}, now); err == nil {
		t.Error("an unknown includeObject policy is accepted")
	}
}

func TestConvertKeepsSetKind(t *testing.T) {
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: om("web")}
	table, err := Convert(d, Options{IncludeObject: metav1.IncludeObject}, now)
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows[0].Object.Object != d {
		t.Error("an object whose kind is already set was copied")
	}
}

func TestConvertUnstructured(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "creationTimestamp": ago(time.Hour).UTC().Format(time.RFC3339)},
		"spec":     map[string]any{"replicas": int64(2)},
		"status":   map[string]any{"readyReplicas": int64(1), "updatedReplicas": int64(2), "availableReplicas": int64(1)},
	}}
	want := []any{"web", "1/2", int64(2), int64(1), "60m", "", "", "<none>"}
	table, err := Convert(u, Options{IncludeObject: metav1.IncludeObject}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, table.Rows[0].Cells); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if table.Rows[0].Object.Object != u {
		t.Error("the row holds a converted object instead of the unstructured one")
	}

	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": map[string]any{"resourceVersion": "7"}}}
	list.Items = []unstructured.Unstructured{*u}
	table, err = Convert(list, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, table.Rows[0].Cells); diff != "" {
		t.Errorf("list cells (-want +got):\n%s", diff)
	}
	if table.ResourceVersion != "7" {
		t.Errorf("resourceVersion = %q", table.ResourceVersion)
	}

	empty := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "apps/v1", "kind": "DeploymentList"}}
	table, err = Convert(empty, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := columnNames(table); len(got) != len(deploymentColumns) {
		t.Errorf("empty unstructured list columns = %v", got)
	}

	mixed := list.DeepCopy()
	other := u.DeepCopy()
	other.SetKind("StatefulSet")
	mixed.Items = append(mixed.Items, *other)
	if _, err := Convert(mixed, Options{}, now); err == nil {
		t.Error("a list mixing kinds converts")
	}
}

func TestConvertDefaultColumns(t *testing.T) {
	cr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "creationTimestamp": ago(3 * 24 * time.Hour).UTC().Format(time.RFC3339)},
	}}
	table, err := Convert(cr, Options{IncludeObject: metav1.IncludeObject}, now)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]},
		{Name: "Age", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
	}
	if diff := cmp.Diff(wantCols, table.ColumnDefinitions); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"w", "3d"}, table.Rows[0].Cells); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if table.Rows[0].Object.Object != cr {
		t.Error("the row object of an unknown kind is not the object")
	}

	// A typed kind without a printer of its own.
	binding := &corev1.Binding{ObjectMeta: om("b")}
	table, err = Convert(binding, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"b", "5m"}, table.Rows[0].Cells); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestConvertMixedList(t *testing.T) {
	list := &corev1.List{Items: []runtime.RawExtension{
		{Object: makePod("p").obj()},
		{Object: &corev1.Service{ObjectMeta: om("s")}},
	}}
	_, err := Convert(list, Options{}, now)
	if err == nil || !strings.Contains(err.Error(), "Service") {
		t.Errorf("err = %v, want one naming the Service", err)
	}
	list.Items = list.Items[:1]
	table, err := Convert(list, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != len(podColumns) {
		t.Errorf("a generic list of pods gets %v", columnNames(table))
	}
}
