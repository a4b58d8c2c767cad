package endpoints

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

var (
	podsGVR     = corev1.SchemeGroupVersion.WithResource("pods")
	bindingsGVR = corev1.SchemeGroupVersion.WithResource("bindings")
	servicesGVR = corev1.SchemeGroupVersion.WithResource("services")
)

// serveBinding assigns a pod to a node: POST pods/<name>/binding or
// bindings. It is how a scheduler binds.
func (h *Handler) serveBinding(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	pods := h.stores[podsGVR]
	if pods == nil || info.Verb != "create" {
		h.writeError(w, r, methodNotSupported(schema.GroupResource{Resource: "bindings"}, info.Verb))
		return
	}
	in, err := negotiateInput(r, h.infos)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	binding := &corev1.Binding{}
	gvk := corev1.SchemeGroupVersion.WithKind("Binding")
	if _, _, err := in.Serializer.Decode(body, &gvk, binding); err != nil {
		h.writeError(w, r, apierrors.NewBadRequest(err.Error()))
		return
	}
	name := info.Name
	if name == "" || info.Resource == "bindings" {
		name = binding.Name
	}
	if binding.Name != "" && binding.Name != name {
		h.writeError(w, r, apierrors.NewBadRequest("the name of the binding does not match the pod's name"))
		return
	}
	if binding.Target.Name == "" || (binding.Target.Kind != "" && binding.Target.Kind != "Node") {
		h.writeError(w, r, apierrors.NewInvalid(gvk.GroupKind(), name, nil))
		return
	}
	_, _, err = pods.Update(ctx, info.Namespace, name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		return bindPod(pods, current, binding)
	}, registry.UpdateOptions{DryRun: registry.IsDryRun(r.URL.Query()["dryRun"]), Subresource: "binding"})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	h.respond(w, r, http.StatusCreated, status, schema.GroupVersion{Version: "v1"})
}

// bindPod returns current bound to the binding's node: a shallow copy
// with its own node name, annotations and conditions, sharing the rest
// with current, which it leaves alone (the update's defaulting of what
// they share writes back the values already there). A deep copy of the
// pod was a third of a bind's cost.
func bindPod(pods *registry.Store, current runtime.Object, binding *corev1.Binding) (runtime.Object, error) {
	pod, ok := current.(*corev1.Pod)
	if !ok || pod == nil {
		return nil, apierrors.NewNotFound(pods.GroupResource(), binding.Name)
	}
	if pod.DeletionTimestamp != nil {
		return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
	}
	if pod.Spec.NodeName != "" {
		return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name,
			fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
	}
	if binding.UID != "" && binding.UID != pod.UID {
		return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name, fmt.Errorf("the UID in the binding does not match the pod's"))
	}
	bound := *pod
	bound.Spec.NodeName = binding.Target.Name
	if len(binding.Annotations) > 0 {
		bound.Annotations = maps.Clone(pod.Annotations)
		if bound.Annotations == nil {
			bound.Annotations = map[string]string{}
		}
		maps.Copy(bound.Annotations, binding.Annotations)
	}
	bound.Status.Conditions = slices.Clone(pod.Status.Conditions)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
	replaced := false
	for i := range bound.Status.Conditions {
		if bound.Status.Conditions[i].Type == corev1.PodScheduled {
			bound.Status.Conditions[i], replaced = cond, true
		}
	}
	if !replaced {
		bound.Status.Conditions = append(bound.Status.Conditions, cond)
	}
	return &bound, nil
}
