package endpoints

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// TestKindSettingConvertorRecordsAsTheScheme records creates, updates and
// applies with field managers converting through the scheme and through
// kindSettingConvertor, and expects the same objects back and the inputs
// left as they were.
func TestKindSettingConvertorRecordsAsTheScheme(t *testing.T) {
	converter := newTrustedTypeConverter(libraryConverter(t))
	scheme := resources.Scheme()
	managers := func(gvk schema.GroupVersionKind) (viaScheme, viaKind *managedfields.FieldManager) {
		return newFieldManager(t, converter, scheme, gvk, "", nil), newFieldManager(t, converter, kindSettingConvertor{scheme}, gvk, "", nil)
	}
	same := func(t *testing.T, what string, a, b runtime.Object) {
		t.Helper()
		ma, errA := metaOf(a)
		mb, errB := metaOf(b)
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", what, errA, errB)
		}
		for _, m := range [][]metav1.ManagedFieldsEntry{ma, mb} {
			for i := range m {
				m[i].Time = nil // written at the time of the call
			}
		}
		if !reflect.DeepEqual(ma, mb) {
			t.Errorf("%s: managedFields differ:\nscheme: %+v\nkind:   %+v", what, ma, mb)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: objects differ:\nscheme: %+v\nkind:   %+v", what, a, b)
		}
	}
	untyped := func(obj runtime.Object) runtime.Object {
		obj = obj.DeepCopyObject()
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
		return obj
	}

	pod := testPod()
	t.Run("pod create and update", func(t *testing.T) {
		viaScheme, viaKind := managers(pod.GroupVersionKind())
		for _, p := range []*corev1.Pod{pod, untyped(pod).(*corev1.Pod)} {
			empty := &corev1.Pod{}
			created := viaScheme.UpdateNoErrors(empty.DeepCopy(), p.DeepCopy(), "kubectl")
			input := p.DeepCopy()
			got := viaKind.UpdateNoErrors(empty, input, "kubectl")
			same(t, "create", created, got)
			if !reflect.DeepEqual(empty, &corev1.Pod{}) {
				t.Errorf("the live object was changed: %+v", empty)
			}
			changed := created.DeepCopyObject().(*corev1.Pod)
			changed.Spec.Containers[0].Image = "nginx:2"
			changed.Labels["tier"] = "web"
			live := created.DeepCopyObject()
			want := viaScheme.UpdateNoErrors(live.DeepCopyObject(), changed.DeepCopy(), "editor")
			got = viaKind.UpdateNoErrors(live, changed.DeepCopy(), "editor")
			same(t, "update", want, got)
			if !reflect.DeepEqual(live, created) {
				t.Errorf("the live object was changed")
			}
		}
	})
	t.Run("deployment apply", func(t *testing.T) {
		gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
		viaScheme, viaKind := managers(gvk)
		live := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
		patch := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "default", "labels": map[string]any{"app": "web"}},
			"spec":     map[string]any{"replicas": int64(3), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}},
		}}
		want, errA := viaScheme.Apply(live.DeepCopy(), patch.DeepCopy(), "deployer", false)
		got, errB := viaKind.Apply(live.DeepCopy(), patch.DeepCopy(), "deployer", false)
		if errA != nil || errB != nil {
			t.Fatalf("apply: %v, %v", errA, errB)
		}
		same(t, "apply", want, got)
	})
	t.Run("a real conversion goes to the scheme", func(t *testing.T) {
		_, err := kindSettingConvertor{scheme}.ConvertToVersion(pod.DeepCopy(), appsv1.SchemeGroupVersion)
		if _, want := scheme.ConvertToVersion(pod.DeepCopy(), appsv1.SchemeGroupVersion); err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("converting a pod to apps/v1: %v, want the scheme's %v", err, want)
		}
	})
}

func metaOf(obj runtime.Object) ([]metav1.ManagedFieldsEntry, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	return m.GetManagedFields(), nil
}
