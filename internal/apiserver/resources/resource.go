// Package resources is the catalog of the API resources tug serves: for
// each, its group/version/kind, scope, names, verbs and subresources, and
// the strategy that defaults, validates and prepares its objects.
package resources

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource describes one served resource.
type Resource struct {
	// GVR and Kind identify the resource; ListKind is Kind + "List".
	GVR      schema.GroupVersionResource
	Kind     string
	ListKind string
	// SingularName is the lower-case kind, as discovery shows it.
	SingularName string
	Namespaced   bool
	ShortNames   []string
	// Categories, such as "all", group resources for kubectl get.
	Categories []string
	// Verbs the resource supports, as discovery lists them.
	Verbs []string
	// Subresources such as status and scale.
	Subresources []Subresource
	// StorageVersion is the kind, with its group and version, that the
	// resource's objects are stored as. Resources with the same
	// StorageVersion share their objects: core and events.k8s.io events,
	// the two autoscaling versions of horizontalpodautoscalers. Zero for
	// resources that are not stored (bindings, reviews, componentstatuses).
	// Discovery shows a hash of it (storageVersionHash).
	StorageVersion schema.GroupVersionKind
	// New and NewList return empty objects of the resource's types.
	New     func() runtime.Object
	NewList func() runtime.Object
	// Custom marks a custom resource, served for a CustomResourceDefinition:
	// its objects are *unstructured.Unstructured, always JSON, and their
	// generation counts every change but metadata (and status, with a
	// status subresource), as upstream counts it for custom resources.
	Custom bool
	// Scale, for a custom resource with a scale subresource, says where
	// its replicas and selector are.
	Scale *ScalePaths
}

// ScalePaths locate a custom resource's scale: JSON paths such as
// ".spec.replicas"; LabelSelectorPath may be empty.
type ScalePaths struct {
	SpecReplicas, StatusReplicas, LabelSelector string
}

// Subresource describes one subresource of a Resource.
type Subresource struct {
	// Name is the path segment after the object name, e.g. "status".
	Name string
	// GVK of the objects the subresource takes and returns; empty means
	// the parent's kind.
	GVK   schema.GroupVersionKind
	Verbs []string
}

// GroupVersionKind returns the kind of the resource's objects.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GVR.GroupVersion().WithKind(r.Kind)
}

// Standard verb sets.
var (
	// VerbsCRUD is the full set for stored resources.
	VerbsCRUD = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	// VerbsCreateOnly is for virtual resources such as reviews.
	VerbsCreateOnly = []string{"create"}
	// VerbsStatus is for the status subresource.
	VerbsStatus = []string{"get", "patch", "update"}
)
