// Package defaultbinder binds a pod to its node through the pods/binding
// subresource, the way every scheduler tells the API server its choice.
package defaultbinder

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "DefaultBinder"

// DefaultBinder binds with the API server's binding endpoint, which also
// sets the pod's PodScheduled condition.
type DefaultBinder struct {
	client kubernetes.Interface
	// rest posts bindings without the typed client's per-request
	// conversion of empty CreateOptions (controller.RESTClientOf); nil
	// for fake clientsets.
	rest *rest.RESTClient
}

var _ framework.BindPlugin = (*DefaultBinder)(nil)

// New returns the plugin.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	client := h.ClientSet()
	return &DefaultBinder{client: client, rest: controller.RESTClientOf(client.CoreV1().RESTClient())}, nil
}

// Name implements framework.Plugin.
func (b *DefaultBinder) Name() string { return Name }

// Bind implements framework.BindPlugin. The binding carries the pod's UID
// so that a pod deleted and re-created under the same name is not bound
// by mistake.
func (b *DefaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *corev1.Pod, nodeName string) *framework.Status {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	var err error
	if b.rest != nil {
		err = b.rest.Post().Namespace(pod.Namespace).Resource("pods").Name(pod.Name).SubResource("binding").Body(binding).Do(ctx).Error()
	} else {
		err = b.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	}
	if err != nil {
		return framework.AsStatus(err)
	}
	return nil
}
