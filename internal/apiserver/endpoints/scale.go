package endpoints

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"reflect"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// scaleOf reads the Scale of a workload: spec.replicas, status.replicas
// and the selector, found by field name on any workload type.
func scaleOf(res *resources.Resource, obj runtime.Object) (*autoscalingv1.Scale, error) {
	accessor, err := registry.ObjectMeta(obj)
	if err != nil {
		return nil, err
	}
	if u, ok := obj.(*unstructured.Unstructured); ok && res.Scale != nil {
		return customScaleOf(res.Scale, u, accessor)
	}
	v := reflect.ValueOf(obj).Elem()
	spec, status := v.FieldByName("Spec"), v.FieldByName("Status")
	if !spec.IsValid() || !status.IsValid() {
		return nil, apierrors.NewInternalError(fmt.Errorf("%T has no spec and status", obj))
	}
	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name: accessor.GetName(), Namespace: accessor.GetNamespace(), UID: accessor.GetUID(),
			ResourceVersion: accessor.GetResourceVersion(), CreationTimestamp: accessor.GetCreationTimestamp(),
		},
	}
	switch r := spec.FieldByName("Replicas"); r.Kind() {
	case reflect.Pointer:
		if !r.IsNil() {
			scale.Spec.Replicas = int32(r.Elem().Int())
		}
	case reflect.Int32:
		scale.Spec.Replicas = int32(r.Int())
	}
	if r := status.FieldByName("Replicas"); r.IsValid() {
		scale.Status.Replicas = int32(r.Int())
	}
	switch sel := spec.FieldByName("Selector"); {
	case sel.Type() == reflect.TypeFor[*metav1.LabelSelector]():
		if ls := sel.Interface().(*metav1.LabelSelector); ls != nil {
			s, err := metav1.LabelSelectorAsSelector(ls)
			if err == nil {
				scale.Status.Selector = s.String()
			}
		}
	case sel.Kind() == reflect.Map:
		if m, ok := sel.Interface().(map[string]string); ok {
			scale.Status.Selector = metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: m})
		}
	}
	return scale, nil
}

// setReplicas writes spec.replicas of a workload.
func setReplicas(res *resources.Resource, obj runtime.Object, replicas int32) {
	if u, ok := obj.(*unstructured.Unstructured); ok && res.Scale != nil {
		_ = unstructured.SetNestedField(u.Object, int64(replicas), jsonPathFields(res.Scale.SpecReplicas)...)
		return
	}
	r := reflect.ValueOf(obj).Elem().FieldByName("Spec").FieldByName("Replicas")
	switch r.Kind() {
	case reflect.Pointer:
		r.Set(reflect.ValueOf(&replicas))
	case reflect.Int32:
		r.SetInt(int64(replicas))
	}
}

// serveScale serves the scale subresource of workloads.
func (h *Handler) serveScale(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	gv := autoscalingv1.SchemeGroupVersion
	switch info.Verb {
	case "get":
		obj, err := store.Get(ctx, info.Namespace, info.Name, nil)
		if err == nil {
			var scale *autoscalingv1.Scale
			if scale, err = scaleOf(store.Resource, obj); err == nil {
				h.respond(w, r, http.StatusOK, scale, gv)
				return
			}
		}
		h.writeError(w, r, err)
	case "update", "patch":
		body, err := readBody(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		dryRun := registry.IsDryRun(r.URL.Query()["dryRun"])
		out, _, err := store.Update(ctx, info.Namespace, info.Name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
			if current == nil {
				return nil, apierrors.NewNotFound(store.GroupResource(), info.Name)
			}
			scale, err := h.desiredScale(r, store.Resource, info.Verb, current, body)
			if err != nil {
				return nil, err
			}
			if rv := scale.ResourceVersion; rv != "" {
				if accessor, err := registry.ObjectMeta(current); err == nil && accessor.GetResourceVersion() != rv {
					return nil, apierrors.NewConflict(store.GroupResource(), info.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
				}
			}
			if scale.Spec.Replicas < 0 {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.replicas: Invalid value: %d: must be greater than or equal to 0", scale.Spec.Replicas))
			}
			next := current.DeepCopyObject()
			setReplicas(store.Resource, next, scale.Spec.Replicas)
			return next, nil
		}, registry.UpdateOptions{DryRun: dryRun})
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		scale, err := scaleOf(store.Resource, out)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.respond(w, r, http.StatusOK, scale, gv)
	default:
		h.writeError(w, r, methodNotSupported(store.GroupResource(), info.Verb))
	}
}

// desiredScale decodes a Scale from a PUT body or applies a patch to the
// current Scale.
func (h *Handler) desiredScale(r *http.Request, res *resources.Resource, verb string, current runtime.Object, body []byte) (*autoscalingv1.Scale, error) {
	gvk := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	if verb == "update" {
		info, err := negotiateInput(r, h.infos)
		if err != nil {
			return nil, err
		}
		scale := &autoscalingv1.Scale{}
		if _, _, err := info.Serializer.Decode(body, &gvk, scale); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return scale, nil
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, unsupportedMediaType(r.Header.Get("Content-Type"))
	}
	patchType := types.PatchType(mediaType)
	if patchType != types.JSONPatchType && patchType != types.MergePatchType && patchType != types.StrategicMergePatchType {
		return nil, unsupportedMediaType(mediaType)
	}
	currentScale, err := scaleOf(res, current)
	if err != nil {
		return nil, err
	}
	currentScale.ResourceVersion = ""
	currentJSON, err := runtime.Encode(h.codecs.EncoderForVersion(h.jsonInfo.Serializer, autoscalingv1.SchemeGroupVersion), currentScale)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	patched, err := applyPatch(patchType, currentJSON, body, &autoscalingv1.Scale{})
	if err != nil {
		return nil, err
	}
	scale := &autoscalingv1.Scale{}
	if _, _, err := h.jsonInfo.Serializer.Decode(patched, &gvk, scale); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return scale, nil
}
