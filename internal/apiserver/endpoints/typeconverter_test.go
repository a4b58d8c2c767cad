package endpoints

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tugcluster/tug/internal/apiserver/openapi"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// libraryConverter is the validating converter the trusted one wraps.
func libraryConverter(t *testing.T) managedfields.TypeConverter {
	t.Helper()
	docs, err := openapi.New([]openapi.Kind{
		{GVK: corev1.SchemeGroupVersion.WithKind("Pod"), Type: reflect.TypeFor[corev1.Pod](), Resource: "pods", Namespaced: true},
		{GVK: corev1.SchemeGroupVersion.WithKind("Service"), Type: reflect.TypeFor[corev1.Service](), Resource: "services", Namespaced: true},
		{GVK: appsv1.SchemeGroupVersion.WithKind("Deployment"), Type: reflect.TypeFor[appsv1.Deployment](), Resource: "deployments", Namespaced: true},
		{GVK: corev1.SchemeGroupVersion.WithKind("Node"), Type: reflect.TypeFor[corev1.Node](), Resource: "nodes"},
		{GVK: coordinationv1.SchemeGroupVersion.WithKind("Lease"), Type: reflect.TypeFor[coordinationv1.Lease](), Resource: "leases", Namespaced: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := managedfields.NewTypeConverter(docs.Schemas(), false)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// newFieldManager builds the field manager of gvk and sub as
// FieldManagers.For does, with tc for types, convertor for versions and
// reset for the fields the endpoint cannot change.
func newFieldManager(t testing.TB, tc managedfields.TypeConverter, convertor runtime.ObjectConvertor, gvk schema.GroupVersionKind, sub string,
	reset map[fieldpath.APIVersion]fieldpath.Filter) *managedfields.FieldManager {
	t.Helper()
	scheme := resources.Scheme()
	m, err := managedfields.NewDefaultFieldManager(tc, convertor, scheme, scheme, gvk, gvk.GroupVersion(), sub, reset)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// serverFieldManager is the field manager the server uses for gvr's
// subresource sub: the kind set on conversion, and the fields the
// subresource resets.
func serverFieldManager(t testing.TB, tc managedfields.TypeConverter, gvr schema.GroupVersionResource, sub string) *managedfields.FieldManager {
	t.Helper()
	r, ok := resources.Lookup(gvr)
	if !ok {
		t.Fatalf("no resource %v", gvr)
	}
	return newFieldManager(t, tc, kindSettingConvertor{resources.Scheme()}, r.GroupVersionKind(), sub, resetFields(r, sub))
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "busybox",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
				// Repeated env names are legal and must be tolerated.
				Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")},
				}},
			}},
			Tolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}},
		},
	}
}

// managedFieldsOf drops the timestamps, which differ between two runs.
func managedFieldsOf(t *testing.T, obj runtime.Object) []metav1.ManagedFieldsEntry {
	t.Helper()
	entries := obj.(metav1.Object).GetManagedFields()
	if len(entries) == 0 {
		t.Fatal("no managed fields recorded")
	}
	out := make([]metav1.ManagedFieldsEntry, len(entries))
	for i, e := range entries {
		e.Time = nil
		out[i] = e
	}
	return out
}

// TestTrustedTypeConverterMatchesLibrary records managed fields through
// both converters for creates, spec and status updates and a server-side
// apply, and expects identical entries.
func TestTrustedTypeConverterMatchesLibrary(t *testing.T) {
	lib := libraryConverter(t)
	trusted := newTrustedTypeConverter(lib)
	scheme := resources.Scheme()
	podGVK := corev1.SchemeGroupVersion.WithKind("Pod")

	manager := func(tc managedfields.TypeConverter, gvk schema.GroupVersionKind, sub string) *managedfields.FieldManager {
		return newFieldManager(t, tc, scheme, gvk, sub, nil)
	}

	updatedPod := func(p *corev1.Pod) *corev1.Pod {
		p = p.DeepCopy()
		p.Labels["tier"] = "front"
		p.Spec.Containers[0].Image = "busybox:2"
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Image: "busybox"})
		return p
	}
	withStatus := func(p *corev1.Pod) *corev1.Pod {
		p = p.DeepCopy()
		p.Status = corev1.PodStatus{
			Phase:      corev1.PodRunning,
			PodIP:      "10.42.0.5",
			PodIPs:     []corev1.PodIP{{IP: "10.42.0.5"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "web", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}},
		}
		return p
	}
	deployment := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: testPod().Spec},
		},
	}
	service := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP},
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			},
		},
	}

	cases := []struct {
		name      string
		gvk       schema.GroupVersionKind
		sub       string
		live, obj func() runtime.Object
	}{
		{"create pod", podGVK, "", func() runtime.Object { return &corev1.Pod{} }, func() runtime.Object { return testPod() }},
		{"update pod", podGVK, "", func() runtime.Object { return testPod() }, func() runtime.Object { return updatedPod(testPod()) }},
		{"pod status", podGVK, "status", func() runtime.Object { return testPod() }, func() runtime.Object { return withStatus(testPod()) }},
		{"create deployment", deployment.GroupVersionKind(), "", func() runtime.Object { return &appsv1.Deployment{} }, func() runtime.Object { return deployment.DeepCopy() }},
		{"create service", service.GroupVersionKind(), "", func() runtime.Object { return &corev1.Service{} }, func() runtime.Object { return service.DeepCopy() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]metav1.ManagedFieldsEntry
			for i, conv := range []managedfields.TypeConverter{lib, trusted} {
				// The live object already carries a create's entry, so
				// updates merge into existing managed fields.
				empty, err := scheme.New(tc.gvk)
				if err != nil {
					t.Fatal(err)
				}
				live := manager(conv, tc.gvk, "").UpdateNoErrors(empty, tc.live(), "creator")
				m := manager(conv, tc.gvk, tc.sub)
				obj := tc.obj()
				obj.(metav1.Object).SetManagedFields(live.(metav1.Object).GetManagedFields())
				out, err := m.Update(live, obj, "updater")
				if err != nil {
					t.Fatal(err)
				}
				got[i] = managedFieldsOf(t, out)
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Fatalf("managed fields differ:\nlibrary: %+v\ntrusted: %+v", got[0], got[1])
			}
		})
	}
}

// TestTrustedTypeConverterValidatesUnstructured keeps schema errors in
// apply patches, which arrive unstructured.
func TestTrustedTypeConverterValidatesUnstructured(t *testing.T) {
	trusted := newTrustedTypeConverter(libraryConverter(t))
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web"},
		"spec":     map[string]any{"containers": "not a list"},
	}}
	if _, err := trusted.ObjectToTyped(bad); err == nil {
		t.Fatal("an unstructured pod with a malformed spec converted without error")
	}
}
