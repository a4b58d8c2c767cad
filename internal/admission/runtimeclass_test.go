package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestRuntimeClass(t *testing.T) {
	known := RuntimeClass{Get: func(_ context.Context, name string) error {
		if name == "runc" {
			return nil
		}
		return apierrors.NewNotFound(schema.GroupResource{Resource: "runtimeclasses"}, name)
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
