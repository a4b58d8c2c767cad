package endpoints

import (
	"context"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/typedpatch"
)

// patch applies a JSON, merge or strategic merge patch to the current
// object and stores the result through the same path as an update.
func (h *Handler) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo, subresource string) {
	opts := &metav1.PatchOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		h.writeError(w, r, badRequest(err))
		return
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		h.writeError(w, r, unsupportedMediaType(r.Header.Get("Content-Type")))
		return
	}
	patchType := types.PatchType(mediaType)
	if patchType == types.StrategicMergePatchType && store.Resource.Custom {
		// Custom resources have no patch strategies; kubectl falls back
		// to a merge patch when it is told so, as upstream tells it.
		h.writeError(w, r, &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
			Message: "the body of the request was in an unknown format - accepted media types include: " +
				"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
		}})
		return
	}
	switch patchType {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
	case types.ApplyYAMLPatchType:
		if h.fields == nil {
			h.writeError(w, r, unsupportedMediaType(mediaType))
			return
		}
	default:
		h.writeError(w, r, unsupportedMediaType(mediaType))
		return
	}
	patchBytes, err := readBody(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	gv := gvOf(store)
	jsonCodec := h.codecs.EncoderForVersion(h.jsonInfo.Serializer, gv)
	manager := managerName(r, opts.FieldManager)
	var apply registry.UpdateFunc = func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		if current == nil {
			return nil, apierrors.NewNotFound(store.GroupResource(), info.Name)
		}
		if obj, ok := patchTyped(patchType, current, patchBytes, store.Resource.GroupVersionKind()); ok {
			return h.trackFields(store, subresource, current, obj, manager)
		}
		currentJSON, err := runtime.Encode(jsonCodec, current)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		patched, err := applyPatch(patchType, currentJSON, patchBytes, store.Resource.New())
		if err != nil {
			return nil, err
		}
		obj, err := h.decodePatched(w, r, store, patched)
		if err != nil {
			return nil, err
		}
		return h.trackFields(store, subresource, current, obj, manager)
	}
	if patchType == types.ApplyYAMLPatchType || patchType == types.ApplyCBORPatchType {
		if opts.FieldManager == "" {
			h.writeError(w, r, apierrors.NewBadRequest("PATCH, application/apply-patch+yaml requests must specify a fieldManager"))
			return
		}
		apply, err = h.serverSideApply(store, info, subresource, patchBytes, opts)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if store.Resource.Custom {
			applyOnly := apply
			apply = func(ctx context.Context, current runtime.Object) (runtime.Object, error) {
				obj, err := applyOnly(ctx, current)
				if err != nil {
					return nil, err
				}
				return obj, pruneUnknownFields(w, r, store, obj)
			}
		}
	}
	out, created, err := store.Update(ctx, info.Namespace, info.Name, h.admitted(w, store, info, subresource, registry.IsDryRun(opts.DryRun), apply),
		registry.UpdateOptions{DryRun: registry.IsDryRun(opts.DryRun), Subresource: subresource, ForceAllowCreate: patchType == types.ApplyYAMLPatchType})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	h.respond(w, r, code, out, gv)
}

func applyPatch(patchType types.PatchType, current, patch []byte, schema runtime.Object) ([]byte, error) {
	var (
		out []byte
		err error
	)
	switch patchType {
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out, err = p.Apply(current)
	case types.MergePatchType:
		out, err = jsonpatch.MergePatch(current, patch)
	case types.StrategicMergePatchType:
		out, err = strategicpatch.StrategicMergePatch(current, patch, schema)
	}
	if err != nil {
		return nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid, Message: err.Error()}}
	}
	return out, nil
}

// patchTyped applies a merge patch, or a strategic one without lists, to
// a copy of current field by field, without the JSON round trip; it
// reports false for whatever typedpatch cannot promise to apply exactly as
// the round trip would, which then takes the document path.
func patchTyped(patchType types.PatchType, current runtime.Object, patch []byte, gvk schema.GroupVersionKind) (runtime.Object, bool) {
	if patchType != types.MergePatchType && patchType != types.StrategicMergePatchType {
		return nil, false
	}
	if _, untyped := current.(runtime.Unstructured); untyped {
		return nil, false
	}
	obj := current.DeepCopyObject()
	if !typedpatch.Merge(obj, patch, patchType == types.StrategicMergePatchType) {
		return nil, false
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, true
}

// decodePatched decodes a patched document, with the request's field
// validation.
func (h *Handler) decodePatched(w http.ResponseWriter, r *http.Request, store *registry.Store, data []byte) (runtime.Object, error) {
	obj, _, err := decodeValidated(w, r, h.jsonInfo, data, store)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return obj, pruneUnknownFields(w, r, store, obj)
}
