package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Services != 1000 || o.Namespaces != 10 || o.Duration != 2*time.Second {
		t.Errorf("quick options = %+v, want 1000 Services, 10 namespaces, 2s", o)
	}
	for _, args := range [][]string{{"-services", "70000"}, {"-headless-every", "1"}, {"-services", "5", "-headless-every", "10"},
		{"-endpoints", "0"}, {"-only", "coredns"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

// TestMeasure runs a tiny benchmark: every kind of query must get the
// answer it checks for, and the table must list them all.
func TestMeasure(t *testing.T) {
	for _, args := range [][]string{
		{"-services", "23", "-namespaces", "3", "-headless-every", "2", "-endpoints", "3", "-clients", "2", "-duration", "50ms"},
		{"-services", "10", "-namespaces", "1", "-headless-every", "10", "-endpoints", "1", "-clients", "1", "-duration", "50ms"},
	} {
		o, err := parseOptions(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		m, err := measure(t.Context(), &o, func(string, ...any) {})
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		var out bytes.Buffer
		if err := printReport(&out, &o, args, "0 0 0", m); err != nil {
			t.Fatal(err)
		}
		for _, k := range m.kinds {
			if k.result.Ops == 0 || !strings.Contains(out.String(), k.label) {
				t.Errorf("%q: %s: %d queries, or missing from the report:\n%s", args, k.label, k.result.Ops, out.String())
			}
		}
		if len(m.kinds) != 8 {
			t.Errorf("%q: %d kinds measured, want 8", args, len(m.kinds))
		}
	}
}
