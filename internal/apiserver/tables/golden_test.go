package tables

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestColumnsGolden pins the column definitions of every kind, with the
// headers `kubectl get` and `kubectl get -o wide` print from them.
func TestColumnsGolden(t *testing.T) {
	got := renderColumns(t)
	path := filepath.Join("testdata", "columns.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update to accept):\n%s", path, diff)
	}
}

// renderColumns writes, per kind in a stable order, the kubectl headers
// and one line per column: name, type, format, priority, description.
// Descriptions are normalised to one line.
func renderColumns(t *testing.T) []byte {
	t.Helper()
	type entry struct {
		kind string
		p    *printer
	}
	var entries []entry
	for gvk, p := range printers().byGVK {
		entries = append(entries, entry{gvk.String(), p})
	}
	entries = append(entries, entry{"(any other kind)", defaultPrinter})
	sort.Slice(entries, func(i, j int) bool { return entries[i].kind < entries[j].kind })

	var buf bytes.Buffer
	for _, e := range entries {
		var get, wideHeaders []string
		for _, c := range e.p.columns {
			h := strings.ToUpper(c.Name)
			if c.Priority == 0 {
				get = append(get, h)
			}
			wideHeaders = append(wideHeaders, h)
		}
		fmt.Fprintf(&buf, "== %s\nget:  %s\nwide: %s\n", e.kind, strings.Join(get, " | "), strings.Join(wideHeaders, " | "))
		w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
		for _, c := range e.p.columns {
			format := c.Format
			if format == "" {
				format = "-"
			}
			line := fmt.Sprintf("  %s\t%s\t%s\t%d\t%s\n", c.Name, c.Type, format, c.Priority, strings.Join(strings.Fields(c.Description), " "))
			if _, err := w.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("\n")
	}
	return buf.Bytes()
}
