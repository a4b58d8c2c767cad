package storage

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// AttrFunc returns the labels and fields a predicate matches against.
type AttrFunc func(obj runtime.Object) (labels.Set, fields.Set, error)

// Predicate selects objects by label and field and carries the paging
// parameters of a list.
type Predicate struct {
	// Label and Field select objects; nil selects everything.
	Label labels.Selector
	Field fields.Selector
	// GetAttrs extracts the attributes; nil uses DefaultAttrs.
	GetAttrs AttrFunc
	// Limit caps the number of items in one list response; 0 is unlimited.
	Limit int64
	// Continue is the token of the previous page.
	Continue string
}

// Everything matches every object.
func Everything() Predicate { return Predicate{} }

// Empty reports whether p selects every object.
func (p Predicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Matches reports whether obj is selected.
func (p Predicate) Matches(obj runtime.Object) (bool, error) {
	if p.Empty() {
		return true, nil
	}
	attrs := p.GetAttrs
	if attrs == nil {
		attrs = DefaultAttrs
	}
	ls, fs, err := attrs(obj)
	if err != nil {
		return false, err
	}
	if p.Label != nil && !p.Label.Matches(ls) {
		return false, nil
	}
	if p.Field != nil && !p.Field.Matches(fs) {
		return false, nil
	}
	return true, nil
}

// DefaultAttrs returns an object's labels and its metadata.name and
// metadata.namespace fields, the field selectors every resource supports.
func DefaultAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	fs := fields.Set{"metadata.name": accessor.GetName()}
	if ns := accessor.GetNamespace(); ns != "" {
		fs["metadata.namespace"] = ns
	}
	return labels.Set(accessor.GetLabels()), fs, nil
}
