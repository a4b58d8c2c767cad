package tables

import (
	"bytes"
	"fmt"
	"reflect"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"
)

// CustomResource converts a custom resource (*unstructured.Unstructured)
// or a list of them (*unstructured.UnstructuredList, or any list type)
// into a Table with the CRD version's additionalPrinterColumns, as
// kube-apiserver does: NAME first, then one column per definition, whose
// cell is the first value its jsonPath finds — nil when it finds nothing
// or a value that does not fit the column's type, a date column shown as
// an age ("<invalid>" if the value is not an RFC 3339 time), a string
// column printed as the jsonpath template would (so a map shows as JSON).
// Columns with priority > 0 are for -o wide; kubectl hides them. Without
// columns the table has NAME and AGE. opts and now are as for Convert.
func CustomResource(obj runtime.Object, columns []apiextensionsv1.CustomResourceColumnDefinition, opts Options, now time.Time) (*metav1.Table, error) {
	p, err := customPrinter(columns)
	if err != nil {
		return nil, err
	}
	table, items, err := newTable(obj, opts)
	if err != nil {
		return nil, err
	}
	if !opts.NoHeaders {
		table.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), p.columns...)
	}
	table.Rows = make([]metav1.TableRow, 0, len(items))
	for _, item := range items {
		row := metav1.TableRow{Cells: p.cells(item, now)}
		if row.Object, err = rowObject(item, item.GetObjectKind().GroupVersionKind(), opts.IncludeObject); err != nil {
			return nil, err
		}
		table.Rows = append(table.Rows, row)
	}
	return table, nil
}

// customColumnDescription prefixes the jsonPath of a column defined
// without a description.
const customColumnDescription = "Custom resource definition column (in JSONPath format): "

// customPrinter builds the printer of a CRD version's columns. The CRD's
// validation accepted each jsonPath, so a parse error means a caller bug.
func customPrinter(defs []apiextensionsv1.CustomResourceColumnDefinition) (*printer, error) {
	if len(defs) == 0 {
		return defaultPrinter, nil
	}
	cols := []column{nameColumn()}
	paths := make([]*jsonpath.JSONPath, 0, len(defs))
	for _, d := range defs {
		description := d.Description
		if description == "" {
			description = customColumnDescription + d.JSONPath
		}
		cols = append(cols, column{Name: d.Name, Type: d.Type, Format: d.Format, Description: description, Priority: d.Priority})
		jp := jsonpath.New(d.Name)
		if err := jp.Parse("{" + d.JSONPath + "}"); err != nil {
			return nil, fmt.Errorf("column %q: parse jsonPath %q: %w", d.Name, d.JSONPath, err)
		}
		jp.AllowMissingKeys(true)
		paths = append(paths, jp)
	}
	return &printer{
		columns: cols,
		cells: func(obj runtime.Object, now time.Time) []any {
			cells := make([]any, 0, len(cols))
			m, err := meta.Accessor(obj)
			if err != nil {
				return append(cells, "<unknown>")
			}
			cells = append(cells, m.GetName())
			var content map[string]any
			if u, ok := obj.(runtime.Unstructured); ok {
				content = u.UnstructuredContent()
			} else if content, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
				content = nil // every column shows nothing
			}
			for i, jp := range paths {
				cells = append(cells, customCell(jp, defs[i].Type, content, now))
			}
			return cells
		},
	}, nil
}

// customCell is the cell of one column for an object's content.
func customCell(jp *jsonpath.JSONPath, typ string, content map[string]any, now time.Time) any {
	results, err := jp.FindResults(content)
	if err != nil || len(results) == 0 || len(results[0]) == 0 {
		return nil
	}
	value := results[0][0].Interface()
	if typ == typeString {
		var buf bytes.Buffer
		if err := jp.PrintResults(&buf, []reflect.Value{reflect.ValueOf(value)}); err != nil {
			return nil
		}
		return buf.String()
	}
	return typedCell(typ, value, now)
}

// typedCell converts a JSON value to the Go type of a non-string column,
// nil if it does not fit.
func typedCell(typ string, value any, now time.Time) any {
	switch v := value.(type) {
	case int64:
		switch typ {
		case typeInteger:
			return v
		case "number":
			return float64(v)
		}
	case float64:
		switch typ {
		case typeInteger:
			return int64(v)
		case "number":
			return v
		}
	case bool:
		if typ == typeBoolean {
			return v
		}
	case string:
		if typ == typeDate {
			var t metav1.Time
			if err := t.UnmarshalQueryParameter(v); err != nil {
				return "<invalid>"
			}
			return ageSince(t, now)
		}
	}
	return nil
}
