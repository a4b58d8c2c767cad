package tables

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Options are the parameters of a Table request (meta.k8s.io/v1
// TableOptions).
type Options struct {
	// NoHeaders omits the column definitions (TableOptions.noHeaders,
	// which the API documents as meant for internal callers). Default
	// false.
	NoHeaders bool
	// IncludeObject selects what each row's Object holds: None (nothing),
	// Metadata (a PartialObjectMetadata) or Object (the whole object).
	// Empty means Metadata, the API default.
	IncludeObject metav1.IncludeObjectPolicy
}

// tableGV is the group and version of Table and PartialObjectMetadata.
var tableGV = metav1.SchemeGroupVersion

// Convert builds the Table for obj, which is one object or a list (a *XList
// type or any object meta.IsListType accepts). Every row has one cell per
// column definition. now is the time AGE and other durations count to.
//
// The table shares memory with obj (row objects and metadata are not deep
// copies unless their kind had to be filled in): callers must not mutate
// either afterwards. A row's Object, when present, is set as
// RawExtension.Object with its apiVersion and kind filled in; encoding it
// is the serializer's job.
func Convert(obj runtime.Object, opts Options, now time.Time) (*metav1.Table, error) {
	table, items, err := newTable(obj, opts)
	if err != nil {
		return nil, err
	}
	var p *printer
	if meta.IsListType(obj) {
		p = lookupList(obj, items)
	} else {
		p = lookup(obj)
	}

	if !opts.NoHeaders {
		table.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), p.columns...)
	}
	table.Rows = make([]metav1.TableRow, 0, len(items))
	for _, item := range items {
		row, err := p.row(item, now)
		if err != nil {
			return nil, err
		}
		if row.Object, err = rowObject(item, p.gvk, opts.IncludeObject); err != nil {
			return nil, err
		}
		table.Rows = append(table.Rows, row)
	}
	return table, nil
}

// newTable starts the Table of obj, an object or a list (its
// resourceVersion and paging), and returns the objects that become rows.
func newTable(obj runtime.Object, opts Options) (*metav1.Table, []runtime.Object, error) {
	switch opts.IncludeObject {
	case "", metav1.IncludeMetadata, metav1.IncludeNone, metav1.IncludeObject:
	default:
		return nil, nil, fmt.Errorf("unsupported includeObject policy %q: want None, Metadata or Object", opts.IncludeObject)
	}
	table := &metav1.Table{TypeMeta: metav1.TypeMeta{APIVersion: tableGV.String(), Kind: "Table"}}
	if !meta.IsListType(obj) {
		if m, err := meta.CommonAccessor(obj); err == nil {
			table.ResourceVersion = m.GetResourceVersion()
		}
		return table, []runtime.Object{obj}, nil
	}
	list, err := meta.ListAccessor(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("read list metadata: %w", err)
	}
	table.ResourceVersion = list.GetResourceVersion()
	table.Continue = list.GetContinue()
	table.RemainingItemCount = list.GetRemainingItemCount()
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("extract list items: %w", err)
	}
	return table, items, nil
}

// rowObject is what a row carries of its object under policy.
func rowObject(obj runtime.Object, gvk schema.GroupVersionKind, policy metav1.IncludeObjectPolicy) (runtime.RawExtension, error) {
	switch policy {
	case metav1.IncludeNone:
		return runtime.RawExtension{}, nil
	case metav1.IncludeObject:
		return runtime.RawExtension{Object: withKind(obj, gvk)}, nil
	default:
		m, err := meta.Accessor(obj)
		if err != nil {
			return runtime.RawExtension{}, fmt.Errorf("read object metadata: %w", err)
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.TypeMeta = metav1.TypeMeta{APIVersion: tableGV.String(), Kind: "PartialObjectMetadata"}
		return runtime.RawExtension{Object: partial}, nil
	}
}

// withKind returns obj with its apiVersion and kind set to gvk, copying it
// only when they are not already set. Typed objects read from storage
// usually have an empty TypeMeta, but an embedded object must say what it
// is. An empty gvk (no printer knows the kind) leaves obj as it is.
func withKind(obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	if gvk.Empty() || obj.GetObjectKind().GroupVersionKind() == gvk {
		return obj
	}
	out := obj.DeepCopyObject()
	out.GetObjectKind().SetGroupVersionKind(gvk)
	return out
}
