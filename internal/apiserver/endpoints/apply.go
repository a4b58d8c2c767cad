package endpoints

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// strictApplyConfiguration refuses, for fieldValidation=Strict, an apply
// configuration of a custom resource with a duplicate key or a field its
// schema does not declare, with the messages upstream's YAML decoder and
// typed apply give.
func strictApplyConfiguration(store *registry.Store, patch []byte, applied *unstructured.Unstructured) error {
	var strict map[string]any
	if err := yaml.UnmarshalStrict(patch, &strict); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("error strict decoding YAML: %v", err))
	}
	pruner, ok := store.Strategy.(registry.UnknownFieldPruner)
	if !ok {
		return nil
	}
	unknown := pruner.PruneUnknownFields(applied.DeepCopy())
	if len(unknown) == 0 {
		return nil
	}
	messages := make([]string, len(unknown))
	for i, path := range unknown {
		messages[i] = "." + path + ": field not declared in schema"
	}
	return apierrors.NewBadRequest(fmt.Sprintf("failed to create typed patch object (%v): %s",
		store.Resource.GroupVersionKind(), strings.Join(messages, "\n")))
}

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
	if store.Resource.Custom && opts.FieldValidation == "Strict" {
		if err := strictApplyConfiguration(store, patch, applied); err != nil {
			return nil, err
		}
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
