package benchkit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTable(t *testing.T) {
	type m struct{ v float64 }
	var buf bytes.Buffer
	tab := NewTable(&buf, Columns{A: "tug", B: "etcd", Ratio: "tug/etcd"}, &m{v: 2500}, nil)
	tab.Row("big", "ops/s", func(m *m) float64 { return m.v })
	tab.Row("medium", "ms", func(m *m) float64 { return m.v / 100 })
	tab.Row("small", "MiB", func(m *m) float64 { return m.v / 1000 })
	tab.Row("missing", "x", func(*m) float64 { return math.NaN() })
	if err := tab.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "  measurement   unit   tug  etcd  tug/etcd\n" +
		"          big  ops/s  2500     -         -\n" +
		"       medium     ms  25.0     -         -\n" +
		"        small    MiB  2.50     -         -\n" +
		"      missing      x     -     -         -\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		a, b        float64
		value, rate string
	}{
		{a: 1234.5, b: 617.25, value: "1234", rate: "2.00"},
		{a: -12.34, b: 1, value: "-12.3", rate: "-12.34"},
		{a: 0.125, b: 0, value: "0.12", rate: "-"},
		{a: math.NaN(), b: 1, value: "-", rate: "-"},
	} {
		if got := format(tc.a); got != tc.value {
			t.Errorf("format(%v) = %q, want %q", tc.a, got, tc.value)
		}
		if got := ratio(tc.a, tc.b); got != tc.rate {
			t.Errorf("ratio(%v, %v) = %q, want %q", tc.a, tc.b, got, tc.rate)
		}
	}
}

func TestCount(t *testing.T) {
	got := []string{Count(1000), Count(100000), Count(1500), Count(7)}
	if diff := cmp.Diff([]string{"1k", "100k", "1500", "7"}, got); diff != "" {
		t.Errorf("Count (-want +got):\n%s", diff)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	got := []time.Duration{Percentile(ds, 50), Percentile(ds, 99), Percentile(ds, 0), Percentile(nil, 50)}
	if diff := cmp.Diff([]time.Duration{50, 99, 1, 0}, got); diff != "" {
		t.Errorf("Percentile (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Latencies{P50: 50, P99: 99}, Summarize(ds)); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

func TestRunOps(t *testing.T) {
	t.Run("ops", func(t *testing.T) {
		var seen [100]atomic.Int32
		res, err := RunOps(t.Context(), 8, Limit{Ops: 100}, func(_ context.Context, _ int, i int64) error {
			seen[i].Add(1)
			return nil
		})
		if err != nil || res.Ops != 100 {
			t.Fatalf("RunOps = %d ops, %v; want 100, nil", res.Ops, err)
		}
		for i := range seen {
			if n := seen[i].Load(); n != 1 {
				t.Errorf("op %d ran %d times", i, n)
			}
		}
	})
	t.Run("duration", func(t *testing.T) {
		res, err := RunOps(t.Context(), 2, Limit{Duration: 20 * time.Millisecond}, func(context.Context, int, int64) error {
			time.Sleep(time.Millisecond)
			return nil
		})
		if err != nil || res.Ops == 0 || res.Elapsed < 20*time.Millisecond || res.Rate() <= 0 {
			t.Fatalf("RunOps = %+v, %v; want some ops over at least 20ms", res, err)
		}
	})
	t.Run("error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := RunOps(t.Context(), 4, Limit{}, func(_ context.Context, _ int, i int64) error {
			if i == 10 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunOps error = %v, want %v", err, boom)
		}
	})
}

func TestFlags(t *testing.T) {
	var f Flags
	fs := f.FlagSet("bench/test", io.Discard, "tug", "upstream")
	if err := Parse(fs, []string{"-quick", "-only", "tug", "-v=false"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Flags{Quick: true, Only: "tug", Dir: "/var/tmp"}, f); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	if got, want := fs.Lookup("only").Usage, `run only "tug" or "upstream"`; got != want {
		t.Errorf("-only usage = %q, want %q", got, want)
	}
	if err := Parse(f.FlagSet("bench/test", io.Discard), []string{"extra"}); err == nil {
		t.Error("Parse accepted a positional argument")
	}
}
