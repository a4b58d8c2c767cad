package core

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// ValidateResize on the init containers and resize policies, which the
// integration test of pods/resize does not reach.
func TestValidateResize(t *testing.T) {
	s := newPodStrategy()
	cpu := func(q string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}}
	}
	old := minimalPod()
	old.Spec.Containers[0].Resources = cpu("100m")
	old.Spec.InitContainers = []corev1.Container{
		{Name: "init", Image: "nginx", Resources: cpu("100m")},
		{Name: "side", Image: "nginx", Resources: cpu("100m"), RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)},
	}
	s.Default(old)
	for _, tt := range []struct {
		name   string
		change func(*corev1.Pod)
		want   string // "" for valid
		never  bool   // both pods have restartPolicy Never
	}{
		{"regular container", func(p *corev1.Pod) { p.Spec.Containers[0].Resources = cpu("200m") }, "", false},
		{"sidecar", func(p *corev1.Pod) { p.Spec.InitContainers[1].Resources = cpu("200m") }, "", false},
		{"init container", func(p *corev1.Pod) { p.Spec.InitContainers[0].Resources = cpu("200m") }, "non-sidecar init containers", false},
		{"policy", func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.RestartContainer}}
		}, "", false},
		{"policy for another resource", func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: "storage", RestartPolicy: corev1.NotRequired}}
		}, "resizePolicy[0].resourceName", false},
		{"duplicate policy", func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{
				{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired}, {ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired},
			}
		}, "Duplicate value", false},
		{"restart in a pod that never restarts", func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.RestartContainer}}
		}, "must be 'NotRequired'", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := old.DeepCopy()
			if tt.never {
				before.Spec.RestartPolicy = corev1.RestartPolicyNever
			}
			pod := before.DeepCopy()
			tt.change(pod)
			errs := s.ValidateResize(context.Background(), pod, before)
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("unexpected errors: %v", errs)
			case tt.want != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tt.want)):
				t.Errorf("errors %v, want one with %q", errs, tt.want)
			}
		})
	}
}
