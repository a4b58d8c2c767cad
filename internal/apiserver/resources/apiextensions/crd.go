// Package apiextensions holds the strategy of CustomResourceDefinitions:
// upstream's defaults and the validation rules that keep a CRD servable,
// and the cleanup finalizer a deletion adds so that the CRD's objects go
// first (package customresources deletes them).
package apiextensions

import (
	"context"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// CleanupFinalizer holds a deleted CRD until its objects are deleted.
const CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

// SchemaValidator checks one version's schema (structural, acceptable);
// nil checks nothing beyond presence.
type SchemaValidator func(props *apiextensionsv1.JSONSchemaProps, fldPath *field.Path) field.ErrorList

type crdStrategy struct {
	registry.DefaultStrategy
	validateSchema SchemaValidator
}

var (
	_ registry.DeletionHolder  = crdStrategy{}
	_ registry.StatusValidator = crdStrategy{}
)

// Strategies returns the strategies of this group's resources.
func Strategies(validateSchema SchemaValidator) map[schema.GroupVersionResource]registry.Strategy {
	return map[schema.GroupVersionResource]registry.Strategy{
		apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"): crdStrategy{
			DefaultStrategy: registry.DefaultStrategy{HasStatus: true, ClusterScoped: true},
			validateSchema:  validateSchema,
		},
	}
}

// Default implements registry.Strategy, as upstream defaults a v1 CRD.
func (crdStrategy) Default(obj runtime.Object) {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return
	}
	names := &crd.Spec.Names
	if names.Singular == "" {
		names.Singular = strings.ToLower(names.Kind)
	}
	if names.ListKind == "" && names.Kind != "" {
		names.ListKind = names.Kind + "List"
	}
	if crd.Spec.Conversion == nil {
		crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
	}
}

// HoldsDeletion implements registry.DeletionHolder: a first delete only
// marks the CRD, with CleanupFinalizer.
func (crdStrategy) HoldsDeletion(obj runtime.Object) bool {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	return ok && crd.DeletionTimestamp == nil
}

// MarkDeleting implements registry.DeletionHolder.
func (crdStrategy) MarkDeleting(obj runtime.Object) {
	if crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition); ok && !slices.Contains(crd.Finalizers, CleanupFinalizer) {
		crd.Finalizers = append(crd.Finalizers, CleanupFinalizer)
	}
}

// Validate implements registry.Strategy.
func (s crdStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return nil
	}
	return s.validateSpec(crd)
}

// ValidateUpdate implements registry.Strategy: the spec rules, and the
// group, scope and plural stay (the objects are stored under them).
func (s crdStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	oldCRD, ok2 := old.(*apiextensionsv1.CustomResourceDefinition)
	if !ok || !ok2 {
		return nil
	}
	errs := s.validateSpec(crd)
	spec := field.NewPath("spec")
	errs = append(errs, apivalidation.ValidateImmutableField(crd.Spec.Group, oldCRD.Spec.Group, spec.Child("group"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(crd.Spec.Names.Plural, oldCRD.Spec.Names.Plural, spec.Child("names", "plural"))...)
	return errs
}

// ValidateStatusUpdate implements registry.StatusValidator: the stored
// versions must include the storage version.
func (crdStrategy) ValidateStatusUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok || len(crd.Status.StoredVersions) == 0 {
		return nil
	}
	for _, v := range crd.Spec.Versions {
		if v.Storage && !slices.Contains(crd.Status.StoredVersions, v.Name) {
			return field.ErrorList{field.Invalid(field.NewPath("status", "storedVersions"), crd.Status.StoredVersions,
				"must have the storage version "+v.Name)}
		}
	}
	return nil
}

func (s crdStrategy) validateSpec(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	names := crd.Spec.Names
	if want := names.Plural + "." + crd.Spec.Group; crd.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), crd.Name, `must be spec.names.plural+"."+spec.group`))
	}
	switch {
	case crd.Spec.Group == "":
		errs = append(errs, field.Required(spec.Child("group"), ""))
	case len(strings.Split(crd.Spec.Group, ".")) < 2:
		errs = append(errs, field.Invalid(spec.Child("group"), crd.Spec.Group, "should be a domain with at least one dot"))
	default:
		for _, msg := range validation.IsDNS1123Subdomain(crd.Spec.Group) {
			errs = append(errs, field.Invalid(spec.Child("group"), crd.Spec.Group, msg))
		}
	}
	switch crd.Spec.Scope {
	case apiextensionsv1.NamespaceScoped, apiextensionsv1.ClusterScoped:
	case "":
		errs = append(errs, field.Required(spec.Child("scope"), ""))
	default:
		errs = append(errs, field.NotSupported(spec.Child("scope"), crd.Spec.Scope,
			[]string{string(apiextensionsv1.ClusterScoped), string(apiextensionsv1.NamespaceScoped)}))
	}
	errs = append(errs, validateNames(names, spec.Child("names"))...)
	errs = append(errs, s.validateVersions(crd.Spec.Versions, spec.Child("versions"))...)
	return errs
}

func validateNames(names apiextensionsv1.CustomResourceDefinitionNames, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	label := func(value string, p *field.Path, required bool) {
		if value == "" {
			if required {
				errs = append(errs, field.Required(p, ""))
			}
			return
		}
		for _, msg := range validation.IsDNS1035Label(value) {
			errs = append(errs, field.Invalid(p, value, msg))
		}
	}
	label(names.Plural, path.Child("plural"), true)
	label(names.Singular, path.Child("singular"), false)
	for i, short := range names.ShortNames {
		label(short, path.Child("shortNames").Index(i), true)
	}
	if names.Kind == "" {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	}
	if names.Kind != "" && names.Kind == names.ListKind {
		errs = append(errs, field.Invalid(path.Child("listKind"), names.ListKind, "kind and listKind may not be the same"))
	}
	return errs
}

// sharedSchema returns the schema every version has, or nil when they
// differ or one has none.
func sharedSchema(versions []apiextensionsv1.CustomResourceDefinitionVersion) *apiextensionsv1.JSONSchemaProps {
	var first *apiextensionsv1.JSONSchemaProps
	for i, v := range versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil
		}
		if i == 0 {
			first = v.Schema.OpenAPIV3Schema
		} else if !equality.Semantic.DeepEqual(first, v.Schema.OpenAPIV3Schema) {
			return nil
		}
	}
	return first
}

func (s crdStrategy) validateVersions(versions []apiextensionsv1.CustomResourceDefinitionVersion, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(versions) == 0 {
		return field.ErrorList{field.Invalid(path, versions, "must have exactly one version marked as storage version")}
	}
	storage, served := 0, 0
	seen := map[string]bool{}
	// Upstream reports schema errors under spec.validation when every
	// version has the same schema (its internal form keeps one then).
	shared := sharedSchema(versions)
	if shared != nil && s.validateSchema != nil {
		errs = append(errs, s.validateSchema(shared, field.NewPath("spec", "validation", "openAPIV3Schema"))...)
	}
	for i, v := range versions {
		p := path.Index(i)
		for _, msg := range validation.IsDNS1035Label(v.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), v.Name, msg))
		}
		if seen[v.Name] {
			errs = append(errs, field.Invalid(path, versions, "must contain unique version names"))
		}
		seen[v.Name] = true
		if v.Storage {
			storage++
		}
		if v.Served {
			served++
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			errs = append(errs, field.Required(p.Child("schema", "openAPIV3Schema"), "schemas are required"))
		} else if s.validateSchema != nil && shared == nil {
			errs = append(errs, s.validateSchema(v.Schema.OpenAPIV3Schema, p.Child("schema", "openAPIV3Schema"))...)
		}
	}
	if storage != 1 {
		errs = append(errs, field.Invalid(path, versions, "must have exactly one version marked as storage version"))
	}
	if served == 0 {
		errs = append(errs, field.Invalid(path, versions, "must have at least one version marked as served"))
	}
	return errs
}
