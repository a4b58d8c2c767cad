package endpoints

import (
	"strings"
	"testing"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// TestOwnsFieldMatchesParsedSet compares ownsField with parsing the set
// whole and asking it, over entries like those the field manager writes
// and a few it never would.
func TestOwnsFieldMatchesParsedSet(t *testing.T) {
	entries := []string{
		`{}`,
		`{"f:spec":{"f:holderIdentity":{},"f:leaseDurationSeconds":{},"f:renewTime":{}}}`,
		`{"f:metadata":{"f:ownerReferences":{".":{},"k:{\"uid\":\"0b4e\\\"}{\"}":{}}},"f:spec":{"f:renewTime":{}}}`,
		`{"f:status":{".":{},"f:phase":{}},"f:spec":{"f:replicas":{"f:x":{}}}}`,
		`{"f:spec":{"f:replicas":{".":{},"f:x":{}}}}`,
		` { "f:spec" : { "f:re\u006eewTime" : { } } } `,
		`{"f:spec":{"v:\"f:renewTime\"":{},"f:holderIdentity":{}}}`,
		`{"f:data":{"f:a\\":{}},"f:spec":{}}`,
	}
	paths := [][]string{{"spec"}, {"spec", "renewTime"}, {"spec", "holderIdentity"}, {"spec", "replicas"},
		{"status", "phase"}, {"status"}, {"metadata"}, {"data", `a\`}, {"spec", "x"}}
	for _, raw := range entries {
		set := &fieldpath.Set{}
		if err := set.FromJSON(strings.NewReader(raw)); err != nil {
			t.Fatalf("parse %s: %v", raw, err)
		}
		for _, names := range paths {
			elems := make([]any, len(names))
			for i, n := range names {
				elems[i] = n
			}
			got, err := checkedOwnsField(raw, names)
			if err != nil {
				t.Errorf("ownsField(%s, %q): %v", raw, names, err)
				continue
			}
			if want := set.Has(fieldpath.MakePathOrDie(elems...)); got != want {
				t.Errorf("ownsField(%s, %q) = %v, parsed set has it: %v", raw, names, got, want)
			}
		}
	}
}

// TestOwnsFieldRejectsMalformed: JSON the field manager never writes is an
// error, which sends the update to the field manager.
func TestOwnsFieldRejectsMalformed(t *testing.T) {
	for _, raw := range []string{``, `[]`, `{"f:spec"}`, `{"f:spec":{"f:renewTime":{}}`, `{"f:spec":1}`,
		`{"f:other":{"x":"unterminated}}`, `{"f:other":{},}`, `{"f:spec":{"f:renewTime":[]}}`,
		`{"f:spec":{"f:renewTime":{}}} x`, `{"f:other":{"a"},"f:spec":{"f:renewTime":{}}}`} {
		if got, err := checkedOwnsField(raw, []string{"spec", "renewTime"}); err == nil {
			t.Errorf("ownsField(%q) = %v, nil error; want an error", raw, got)
		}
	}
}

// checkedOwnsField is what ownedScalarUpdate asks of an entry: is it
// well-formed, and does it own the field.
func checkedOwnsField(raw string, names []string) (bool, error) {
	if err := checkFieldsJSON(raw); err != nil {
		return false, err
	}
	return ownsField(raw, names)
}
