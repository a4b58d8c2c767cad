package tables

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// column is one column definition; the helpers below build them.
type column = metav1.TableColumnDefinition

// The column types of the Table API, as OpenAPI names them.
const (
	typeString  = "string"
	typeInteger = "integer"
	typeBoolean = "boolean"
	typeDate    = "date"
)

// objectMetaDoc holds the API descriptions of the metadata fields.
var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

// nameColumn is the NAME column every table starts with; its format
// "name" tells kubectl which cell names the object (--show-kind prefixes
// it, -o name uses it).
func nameColumn() column {
	return column{Name: "Name", Type: typeString, Format: "name", Description: objectMetaDoc["name"]}
}

// ageColumn is the AGE column: the time since creation, as ageSince
// renders it.
func ageColumn() column {
	return column{Name: "Age", Type: typeString, Description: objectMetaDoc["creationTimestamp"]}
}

// createdAtColumn is the CREATED AT column of the kinds that show the
// creation time instead of an age.
func createdAtColumn() column {
	return column{Name: "Created At", Type: typeDate, Description: objectMetaDoc["creationTimestamp"]}
}

func strCol(name, description string) column {
	return column{Name: name, Type: typeString, Description: description}
}

func intCol(name, description string) column {
	return column{Name: name, Type: typeInteger, Description: description}
}

func boolCol(name, description string) column {
	return column{Name: name, Type: typeBoolean, Description: description}
}

// wide marks c as shown only by `kubectl get -o wide`.
func wide(c column) column {
	c.Priority = 1
	return c
}

// columns makes a column list; it reads better than the slice literal.
func columns(cs ...column) []column { return cs }

// Descriptions shared by several kinds' columns.
const (
	descContainers = "Names of each container in the template."
	descImages     = "Images referenced by each container in the template."
	descSelector   = "Label selector of the pods the object manages."
)

// defaultPrinter prints any kind without a printer of its own: NAME and
// AGE, the columns a custom resource without additionalPrinterColumns has.
var defaultPrinter = &printer{
	columns: columns(
		nameColumn(),
		column{Name: "Age", Type: typeDate, Description: objectMetaDoc["creationTimestamp"]},
	),
	cells: func(obj runtime.Object, now time.Time) []any {
		m, err := meta.Accessor(obj)
		if err != nil {
			return []any{"", "<unknown>"}
		}
		return []any{m.GetName(), ageSince(m.GetCreationTimestamp(), now)}
	},
}
