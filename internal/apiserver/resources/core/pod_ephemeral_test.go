package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWithEphemeralContainersOf(t *testing.T) {
	ec := func(name, image string) corev1.EphemeralContainer {
		return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image}}
	}
	cur := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{
			Containers:          []corev1.Container{{Name: "main", Image: "busybox"}},
			EphemeralContainers: []corev1.EphemeralContainer{ec("debug-1", "busybox")},
		},
	}
	with := func(ecs ...corev1.EphemeralContainer) *corev1.Pod {
		p := cur.DeepCopy()
		p.Labels = map[string]string{"changed": "ignored"}
		p.Spec.Containers[0].Image = "ignored"
		p.Spec.EphemeralContainers = ecs
		return p
	}
	got, err := withEphemeralContainersOf(cur, with(ec("debug-1", "busybox"), ec("debug-2", "busybox")))
	if err != nil {
		t.Fatal(err)
	}
	pod := got.(*corev1.Pod)
	if len(pod.Spec.EphemeralContainers) != 2 || pod.Labels["a"] != "b" || pod.Spec.Containers[0].Image != "busybox" {
		t.Errorf("result %+v: want the new container added and nothing else changed", pod)
	}
	for name, bad := range map[string]*corev1.Pod{
		"changed":   with(ec("debug-1", "alpine")),
		"removed":   with(),
		"duplicate": with(ec("debug-1", "busybox"), ec("main", "busybox")),
		"no image":  with(ec("debug-1", "busybox"), ec("debug-2", "")),
		"bad name":  with(ec("debug-1", "busybox"), ec("Debug_2", "busybox")),
	} {
		if _, err := withEphemeralContainersOf(cur, bad); !apierrors.IsInvalid(err) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
}
