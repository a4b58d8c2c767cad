package endpoints

import (
	"reflect"
	"testing"
)

// TestShapeGivesUpOnUnexportedFields: a struct with an unexported field,
// directly or inside a list encoded whole, has no shape; the same types
// with exported fields only have one (asked twice, the second time from
// the per-type memo).
func TestShapeGivesUpOnUnexportedFields(t *testing.T) {
	type hidden struct {
		Name   string
		secret int
	}
	type open struct {
		Name  string
		Count int
	}
	type holder struct {
		Direct hidden
	}
	type listHolder struct {
		Items []hidden
	}
	type openHolder struct {
		Direct open
		Items  []open
	}
	for range 2 {
		for name, v := range map[string]any{
			"unexported field":         holder{Direct: hidden{Name: "a", secret: 1}},
			"unexported field in list": listHolder{Items: []hidden{{Name: "a"}}},
		} {
			if _, ok := appendShape(nil, reflect.ValueOf(v), false); ok {
				t.Errorf("%s: a shape was made", name)
			}
		}
		if _, ok := appendShape(nil, reflect.ValueOf(openHolder{Items: []open{{Name: "a"}}}), false); !ok {
			t.Error("exported fields only: no shape was made")
		}
	}
}
