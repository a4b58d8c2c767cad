package customresources

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// Schema is what a CRD version's schema does to objects of the version
// (package customresources/schema).
type Schema interface {
	// Default fills in the schema's defaults.
	Default(obj map[string]any)
	// Prune drops the fields the schema does not know and returns their
	// paths, as fieldValidation reports them.
	Prune(obj map[string]any) []string
	// Validate checks obj against the schema.
	Validate(obj map[string]any) field.ErrorList
	// ValidateUpdate checks obj, which replaces old, against the schema,
	// its transition rules included.
	ValidateUpdate(obj, old map[string]any) field.ErrorList
}

// strategy is the registry strategy of one served version of a custom
// resource: the schema defaults, prunes and validates; metadata is the
// Store's; status is kept apart when the version has a status subresource.
type strategy struct {
	registry.DefaultStrategy
	schema Schema
	// selectable are the version's selectableFields: JSON paths without
	// their leading dot, such as "spec.color".
	selectable []string
}

var _ registry.UnknownFieldPruner = strategy{}

// Default implements registry.Strategy.
func (s strategy) Default(obj runtime.Object) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		s.schema.Default(u.Object)
	}
}

// PruneUnknownFields implements registry.UnknownFieldPruner.
func (s strategy) PruneUnknownFields(obj runtime.Object) []string {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return s.schema.Prune(u.Object)
	}
	return nil
}

// Validate implements registry.Strategy.
func (s strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("custom resource is a %T", obj))}
	}
	return s.schema.Validate(u.Object)
}

// GetAttrs implements registry.Strategy: labels, metadata.name and
// metadata.namespace, and the version's selectableFields as strings (a
// missing field selects as "").
func (s strategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ls, fs, err := s.DefaultStrategy.GetAttrs(obj)
	if err != nil || len(s.selectable) == 0 {
		return ls, fs, err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil, fmt.Errorf("custom resource is a %T", obj)
	}
	for _, path := range s.selectable {
		value := ""
		if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, strings.Split(path, ".")...); found && v != nil {
			value = fmt.Sprint(v)
		}
		fs[path] = value
	}
	return ls, fs, nil
}

// ValidateUpdate implements registry.Strategy.
func (s strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	u, ok := obj.(*unstructured.Unstructured)
	oldU, ok2 := old.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return s.Validate(ctx, obj)
	}
	return s.schema.ValidateUpdate(u.Object, oldU.Object)
}
