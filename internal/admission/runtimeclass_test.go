package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestRuntimeClass(t *testing.T) {
	known := RuntimeClass{Get: func(_ context.Context, name string) (*nodev1.RuntimeClass, error) {
		if name == "runc" {
			return &nodev1.RuntimeClass{Handler: "runc"}, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "runtimeclasses"}, name)
	}}
	pod := func(rc string) *Attributes {
		p := &corev1.Pod{}
		if rc != "" {
			p.Spec.RuntimeClassName = &rc
		}
		return &Attributes{Operation: Create, Resource: podsResource, Object: p}
	}
	for _, tc := range []struct {
		rc        string
		forbidden bool
	}{{"", false}, {"runc", false}, {"missing", true}} {
		err := Chain{known}.Admit(context.Background(), pod(tc.rc))
		if apierrors.IsForbidden(err) != tc.forbidden {
			t.Errorf("runtimeClassName %q: %v, want forbidden=%v", tc.rc, err, tc.forbidden)
		}
	}
}

func TestRuntimeClassOverheadAndScheduling(t *testing.T) {
	overhead := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
	rc := &nodev1.RuntimeClass{
		Handler:    "kata",
		Overhead:   &nodev1.Overhead{PodFixed: overhead},
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"sandbox": "kata"}, Tolerations: []corev1.Toleration{{Key: "kata", Operator: corev1.TolerationOpExists}}},
	}
	plugin := RuntimeClass{Get: func(context.Context, string) (*nodev1.RuntimeClass, error) { return rc, nil }}
	name := "kata"
	mk := func(edit func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{RuntimeClassName: &name}}
		if edit != nil {
			edit(p)
		}
		return p
	}
	pod := mk(nil)
	if err := plugin.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Object: pod}); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, overhead) || pod.Spec.NodeSelector["sandbox"] != "kata" || len(pod.Spec.Tolerations) != 1 {
		t.Errorf("admitted pod spec %+v: want the class's overhead, node selector and toleration", pod.Spec)
	}
	for name, bad := range map[string]*corev1.Pod{
		"other overhead": mk(func(p *corev1.Pod) {
			p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
		}),
		"conflicting selector": mk(func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"sandbox": "runc"} }),
	} {
		if err := plugin.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Object: bad}); !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", name, err)
		}
	}
}
