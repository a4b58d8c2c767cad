package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RuntimeClassGetter reports whether a RuntimeClass exists; a NotFound
// error means it does not.
type RuntimeClassGetter func(ctx context.Context, name string) error

// RuntimeClass refuses pods that name a RuntimeClass that does not exist,
// as upstream's RuntimeClass admission plugin does.
type RuntimeClass struct {
	Get RuntimeClassGetter
}

var _ Plugin = RuntimeClass{}

var podsResource = corev1.SchemeGroupVersion.WithResource("pods")

// Admit implements Plugin.
func (p RuntimeClass) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok || pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName == "" {
		return nil
	}
	name := *pod.Spec.RuntimeClassName
	err := p.Get(ctx, name)
	if apierrors.IsNotFound(err) {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod.Name,
			fmt.Errorf("pod rejected: RuntimeClass %q not found", name))
	}
	return err
}
