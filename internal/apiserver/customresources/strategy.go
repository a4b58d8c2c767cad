package customresources

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
}

// strategy is the registry strategy of one served version of a custom
// resource: the schema defaults, prunes and validates; metadata is the
// Store's; status is kept apart when the version has a status subresource.
type strategy struct {
	registry.DefaultStrategy
	schema Schema
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

// ValidateUpdate implements registry.Strategy.
func (s strategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
