package endpoints

import (
	"context"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// admitted wraps an update (PUT, PATCH, server-side apply) so that
// admission sees the object it computes, with the stored one as Old: an
// UPDATE, or a CREATE when the write creates the object. It runs inside
// the storage retry loop, as upstream's does, so that each attempt is
// admitted against the object it replaces.
func (h *Handler) admitted(w http.ResponseWriter, store *registry.Store, info RequestInfo, subresource string, dryRun bool, update registry.UpdateFunc) registry.UpdateFunc {
	if h.admission == nil {
		return update
	}
	return func(ctx context.Context, current runtime.Object) (runtime.Object, error) {
		obj, err := update(ctx, current)
		if err != nil {
			return nil, err
		}
		a := &admission.Attributes{Operation: admission.Update, Resource: store.Resource.GVR,
			Subresource: subresource, Namespace: info.Namespace, Object: obj, Old: current, DryRun: dryRun}
		if current == nil {
			a.Operation = admission.Create
		}
		err = h.admission.Admit(ctx, a)
		warn(w, a.Warnings)
		if err != nil {
			return nil, err
		}
		return a.Object, nil
	}
}
