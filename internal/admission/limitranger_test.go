package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLimitRanger(t *testing.T) {
	q := resource.MustParse
	lr := corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type:           corev1.LimitTypeContainer,
		Min:            corev1.ResourceList{corev1.ResourceCPU: q("50m")},
		Max:            corev1.ResourceList{corev1.ResourceCPU: q("500m")},
		Default:        corev1.ResourceList{corev1.ResourceCPU: q("300m")},
		DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: q("100m")},
	}}}}
	plugin := LimitRanger{List: func(context.Context, string) ([]corev1.LimitRange, error) { return []corev1.LimitRange{lr}, nil }}
	admit := func(c corev1.Container) (*corev1.Pod, error) {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
		return pod, plugin.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Object: pod})
	}
	pod, err := admit(corev1.Container{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	res := pod.Spec.Containers[0].Resources
	if res.Limits.Cpu().String() != "300m" || res.Requests.Cpu().String() != "100m" {
		t.Fatalf("defaults not applied: %+v", res)
	}
	for name, c := range map[string]corev1.Container{
		"below min": {Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("10m")}}},
		"above max": {Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("2")}}},
	} {
		if _, err := admit(c); !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", name, err)
		}
	}
}
