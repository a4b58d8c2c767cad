package endpoints

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// serverSideApply returns the update that merges an apply configuration
// into the current object, owning the fields it sets for the manager and
// failing with a Conflict when another manager owns one (unless force).
func (h *Handler) serverSideApply(store *registry.Store, info RequestInfo, subresource string, patch []byte, opts *metav1.PatchOptions) (registry.UpdateFunc, error) {
	fm, err := h.fields.For(store.Resource, subresource)
	if err != nil {
		return nil, err
	}
	applied := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(patch, &applied.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	gvk := store.Resource.GroupVersionKind()
	if got := applied.GroupVersionKind(); got != gvk {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("apply configuration is %v, the resource's kind is %v", got, gvk))
	}
	if applied.GetName() != "" && applied.GetName() != info.Name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", applied.GetName(), info.Name))
	}
	force := opts.Force != nil && *opts.Force
	return func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		var live runtime.Object
		if current != nil {
			live = current.DeepCopyObject() // the field manager's merge is not promised to leave it alone
		} else {
			live = store.Resource.New()
			accessor, err := registry.ObjectMeta(live)
			if err != nil {
				return nil, err
			}
			accessor.SetName(info.Name)
			accessor.SetNamespace(info.Namespace)
		}
		return fm.Apply(live, applied, opts.FieldManager, force)
	}, nil
}
