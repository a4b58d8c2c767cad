package tables

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// printer turns objects of one kind into table rows.
type printer struct {
	// gvk is the kind printed; empty for the default printer.
	gvk     schema.GroupVersionKind
	columns []metav1.TableColumnDefinition
	// goType is the pointer type of the typed objects printed, nil for
	// printers of unstructured objects.
	goType reflect.Type
	// newObject returns an empty typed object, to convert unstructured
	// objects of the kind into; nil for printers of unstructured objects.
	newObject func() runtime.Object
	// cells returns one value per column.
	cells func(obj runtime.Object, now time.Time) []any
	// conditions, if set, returns the row's conditions.
	conditions func(obj runtime.Object) []metav1.TableRowCondition
}

// typed builds the printer of the kind gvk whose Go type is *E.
func typed[E any, T interface {
	*E
	runtime.Object
}](gvk schema.GroupVersionKind, columns []metav1.TableColumnDefinition, cells func(T, time.Time) []any) *printer {
	return &printer{
		gvk:       gvk,
		columns:   columns,
		goType:    reflect.TypeFor[T](),
		newObject: func() runtime.Object { return T(new(E)) },
		cells:     func(obj runtime.Object, now time.Time) []any { return cells(obj.(T), now) },
	}
}

// row returns the row of obj, without its Object.
func (p *printer) row(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	if p.goType != nil && reflect.TypeOf(obj) != p.goType {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || u.GroupVersionKind() != p.gvk {
			return metav1.TableRow{}, fmt.Errorf("cannot print %s in a table of %s", describe(obj), p.gvk)
		}
		typedObj := p.newObject()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typedObj); err != nil {
			return metav1.TableRow{}, fmt.Errorf("convert %s %s to a typed object: %w", p.gvk.Kind, u.GetName(), err)
		}
		obj = typedObj
	}
	row := metav1.TableRow{Cells: p.cells(obj, now)}
	if p.conditions != nil {
		row.Conditions = p.conditions(obj)
	}
	return row, nil
}

// registry holds every printer, found by Go type and by kind.
type registry struct {
	byType map[reflect.Type]*printer
	byGVK  map[schema.GroupVersionKind]*printer
}

// printers is built once, on first use.
var printers = sync.OnceValue(func() *registry {
	r := &registry{byType: map[reflect.Type]*printer{}, byGVK: map[schema.GroupVersionKind]*printer{}}
	for _, group := range [][]*printer{
		corePrinters(), coreStoragePrinters(), coreEventPrinters(),
		appsPrinters(), batchPrinters(), autoscalingPrinters(),
		networkingPrinters(), rbacPrinters(), storagePrinters(),
		admissionPrinters(), flowcontrolPrinters(), clusterPrinters(),
		certificatesPrinters(), resourcePrinters(), extensionPrinters(),
	} {
		for _, p := range group {
			if p.goType != nil {
				r.byType[p.goType] = p
			}
			r.byGVK[p.gvk] = p
		}
	}
	return r
})

// lookup returns the printer for a single object.
func lookup(obj runtime.Object) *printer {
	r := printers()
	if p, ok := r.byType[reflect.TypeOf(obj)]; ok {
		return p
	}
	// An unstructured object may be of a typed kind; any object may be of
	// a kind printed from its unstructured form.
	if p, ok := r.byGVK[obj.GetObjectKind().GroupVersionKind()]; ok {
		if _, isUnstructured := obj.(*unstructured.Unstructured); isUnstructured || p.goType == nil {
			return p
		}
	}
	return defaultPrinter
}

// lookupList returns the printer for the items of list: by the Go type of
// a typed list's Items, by the kind of an unstructured list's items (or
// the list kind without "List" when it has none).
func lookupList(list runtime.Object, items []runtime.Object) *printer {
	r := printers()
	if u, ok := list.(*unstructured.UnstructuredList); ok {
		gvk := u.GroupVersionKind()
		gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
		if len(items) > 0 {
			gvk = items[0].GetObjectKind().GroupVersionKind()
		}
		if p, ok := r.byGVK[gvk]; ok {
			return p
		}
		return defaultPrinter
	}
	if t := listItemType(list); t != nil {
		if p, ok := r.byType[t]; ok {
			return p
		}
	}
	if len(items) > 0 {
		return lookup(items[0])
	}
	return defaultPrinter
}

// listItemType returns *T for a list struct whose Items field is []T or
// []*T, or nil.
func listItemType(list runtime.Object) reflect.Type {
	t := reflect.TypeOf(list)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	field, ok := t.Elem().FieldByName("Items")
	if !ok || field.Type.Kind() != reflect.Slice {
		return nil
	}
	switch elem := field.Type.Elem(); elem.Kind() {
	case reflect.Struct:
		return reflect.PointerTo(elem)
	case reflect.Pointer:
		return elem
	default:
		return nil
	}
}

// describe names obj's type for an error message: its kind if set, else
// its Go type.
func describe(obj runtime.Object) string {
	if gvk := obj.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
		return gvk.String()
	}
	return fmt.Sprintf("%T", obj)
}
