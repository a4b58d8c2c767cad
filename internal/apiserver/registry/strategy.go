package registry

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is what one resource adds to the generic Store: defaulting,
// validation, create/update preparation and field selectors.
type Strategy interface {
	// Default fills unset fields as Kubernetes defaults them.
	Default(obj runtime.Object)
	// PrepareForCreate clears what a client may not set on create, such as
	// status when the resource has a status subresource.
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate carries over what a client may not change through
	// this endpoint, such as status through the main resource.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// Validate and ValidateUpdate return field errors beyond ObjectMeta's,
	// which the Store checks itself.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	// AllowCreateOnUpdate lets PUT create a missing object.
	AllowCreateOnUpdate() bool
	// GetAttrs returns the labels and the field-selectable fields.
	GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error)
	// NameValidator checks metadata.name.
	NameValidator() apivalidation.ValidateNameFunc
}

// PartUpdater is implemented by strategies of resources with subresources
// that write one part of the object by rules of their own, such as
// pods/ephemeralcontainers, pods/resize and a CertificateSigningRequest's
// approval and status.
type PartUpdater interface {
	// WritesPart reports whether subresource is one of those; the API
	// endpoints serve get, update and patch for it.
	WritesPart(subresource string) bool
	// MergePart returns current with the part of obj that subresource
	// writes, everything else left as stored; an Invalid error refuses a
	// part that may not be written so.
	MergePart(subresource string, obj, current runtime.Object) (runtime.Object, error)
	// ValidatePart checks such a write in place of ValidateUpdate.
	ValidatePart(ctx context.Context, subresource string, obj, old runtime.Object) field.ErrorList
}

// StatusValidator is implemented by strategies whose status writes have
// rules of their own. A write through the status subresource, whose spec
// is the stored one, is checked by ValidateStatusUpdate in place of
// ValidateUpdate (which would check the unchanged spec again).
type StatusValidator interface {
	ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// Committer is implemented by strategies that hold resources outside
// storage, such as service IPs: they learn whether what they validated was
// written.
type Committer interface {
	// Committed reports a write that reached storage: obj is what was
	// stored (nil after a delete), old what it replaced (nil after a create).
	Committed(obj, old runtime.Object)
	// Aborted reports a validated write that was not stored.
	Aborted(obj, old runtime.Object)
}

// DefaultStrategy suits resources with no rules of their own. Embed it and
// override what differs.
type DefaultStrategy struct {
	// HasStatus splits spec from status: status is kept on create and on
	// updates of the main resource, and spec changes bump generation.
	HasStatus bool
	// ClusterScoped tells field selectors not to offer metadata.namespace.
	ClusterScoped bool
}

// Default implements Strategy.
func (DefaultStrategy) Default(runtime.Object) {}

// PrepareForCreate implements Strategy.
func (s DefaultStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if s.HasStatus {
		setStatus(obj, nil)
	}
}

// PrepareForUpdate implements Strategy.
func (s DefaultStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	if s.HasStatus {
		setStatus(obj, old)
	}
}

// Validate implements Strategy.
func (DefaultStrategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

// ValidateUpdate implements Strategy.
func (DefaultStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

// AllowCreateOnUpdate implements Strategy.
func (DefaultStrategy) AllowCreateOnUpdate() bool { return false }

// GetAttrs implements Strategy: labels plus metadata.name and
// metadata.namespace, the fields every resource can be selected by.
func (DefaultStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	fs := fields.Set{"metadata.name": accessor.GetName(), "metadata.namespace": accessor.GetNamespace()}
	return labels.Set(accessor.GetLabels()), fs, nil
}

// NameValidator implements Strategy: names are DNS subdomains.
func (DefaultStrategy) NameValidator() apivalidation.ValidateNameFunc {
	return apivalidation.NameIsDNSSubdomain
}

// setStatus copies old's Status field into obj, or zeroes it when old is
// nil. Objects without a Status field are left alone.
func setStatus(obj, old runtime.Object) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		setUnstructuredStatus(u, old)
		return
	}
	dst := statusField(obj)
	if !dst.IsValid() {
		return
	}
	if old == nil {
		dst.SetZero()
		return
	}
	if src := statusField(old); src.IsValid() {
		dst.Set(src)
	}
}

// specChanged reports whether anything but metadata and status differs.
func specChanged(obj, old runtime.Object) bool {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return unstructuredChanged(u, old, "metadata", "status")
	}
	a, b := reflect.ValueOf(obj).Elem(), reflect.ValueOf(old).Elem()
	if a.Type() != b.Type() || a.Kind() != reflect.Struct {
		return true
	}
	for i := range a.NumField() {
		switch a.Type().Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			return true
		}
	}
	return false
}

func statusField(obj runtime.Object) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName("Status")
}

// UnknownFieldPruner is implemented by strategies of resources whose
// objects are decoded without a Go type (custom resources): the fields the
// schema does not know are dropped after decoding, and reported as the
// request's fieldValidation asks, as unknown fields of typed objects are.
type UnknownFieldPruner interface {
	// PruneUnknownFields drops obj's unknown fields and returns their
	// paths without a leading dot ("spec.foo").
	PruneUnknownFields(obj runtime.Object) []string
}
