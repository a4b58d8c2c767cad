package treeequal

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "busybox",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "A", Value: "1"}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")},
				}},
			}},
		},
	}
}

// TestValuesAgreesWithDeepEqual compares a pod with copies changed
// one field at a time, at every depth and in every kind of value.
func TestValuesAgreesWithDeepEqual(t *testing.T) {
	base := testPod()
	base.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	base.Spec.Volumes = []corev1.Volume{{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
	base.Status.StartTime = ptr.To(metav1.Unix(1767225600, 0))
	base.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "m", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)}}
	changes := map[string]func(p *corev1.Pod){
		"nothing":                func(*corev1.Pod) {},
		"a label":                func(p *corev1.Pod) { p.Labels["app"] = "api" },
		"a label added":          func(p *corev1.Pod) { p.Labels["tier"] = "front" },
		"labels emptied":         func(p *corev1.Pod) { p.Labels = map[string]string{} },
		"labels dropped":         func(p *corev1.Pod) { p.Labels = nil },
		"an empty slice for nil": func(p *corev1.Pod) { p.Finalizers = []string{} },
		"a nested string":        func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "web" },
		"a nested int":           func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 81 },
		"a list element added": func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "B"})
		},
		"a pointer set":      func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) },
		"a pointed-to value": func(p *corev1.Pod) { p.Spec.Volumes[0].Secret.SecretName = "t" },
		"a quantity": func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("2Gi")
		},
		"a time":                    func(p *corev1.Pod) { p.Status.StartTime = ptr.To(metav1.Unix(1767225601, 0)) },
		"managed fields bytes":      func(p *corev1.Pod) { p.ManagedFields[0].FieldsV1 = metav1.NewFieldsV1(`{"f:status":{}}`) },
		"an int-or-string's string": func(p *corev1.Pod) { p.Spec.Containers[0].ReadinessProbe.HTTPGet.Port = intstr.FromString("web") },
		"a bool":                    func(p *corev1.Pod) { p.Spec.HostNetwork = true },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			other := base.DeepCopy()
			change(other)
			a, b := reflect.ValueOf(base).Elem(), reflect.ValueOf(other).Elem()
			if got, want := Values(a, b), reflect.DeepEqual(base, other); got != want {
				t.Fatalf("Values = %v, reflect.DeepEqual = %v", got, want)
			}
			if name != "nothing" && Values(a, b) {
				t.Fatal("a change went unseen")
			}
		})
	}
	shared := *base // shares every slice, map and pointer with base
	if !Values(reflect.ValueOf(base).Elem(), reflect.ValueOf(&shared).Elem()) {
		t.Fatal("a shallow copy is not equal")
	}
}

func TestEqual(t *testing.T) {
	if !Equal(nil, nil) || Equal(nil, 1) || Equal(1, int64(1)) || !Equal([]string{"a"}, []string{"a"}) || Equal(map[string]int{"a": 1}, map[string]int{"a": 2}) {
		t.Fatal("Equal disagrees with reflect.DeepEqual on plain values")
	}
}
