package metrics

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/bolt"
	"github.com/tugcluster/tug/internal/storage/storagetest"
)

func openBolt(t testing.TB) storage.Backend {
	t.Helper()
	b, err := bolt.Open(bolt.Options{Dir: t.TempDir(), CompactInterval: 200 * time.Millisecond, ApplyInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatalf("open bolt backend: %v", err)
	}
	return b
}

// TestInstrumentBackendSuite runs the storage contract suite against an
// instrumented bolt backend: the wrapper must change no behavior, keep
// Compact available, and let Close wait for its watch goroutines.
func TestInstrumentBackendSuite(t *testing.T) {
	storagetest.RunBackendSuite(t, func(t testing.TB) storage.Backend {
		return New().InstrumentBackend(openBolt(t))
	})
}

func TestInstrumentBackend(t *testing.T) {
	m := New()
	b := m.InstrumentBackend(openBolt(t))
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	ctx := t.Context()
	var rev int64 // the revision of the last write of /a
	steps := []struct {
		name string
		run  func() error
		op   string
		// wantErr is the storage error the step must return, nil for success.
		wantErr error
	}{
		{"create", func() (err error) { rev, err = b.Create(ctx, "/a", []byte("1"), 0); return err }, "create", nil},
		{"create existing", func() error { _, err := b.Create(ctx, "/a", []byte("1"), 0); return err }, "create", storage.ErrKeyExists},
		{"get", func() error { _, _, err := b.Get(ctx, "/a"); return err }, "get", nil},
		{"get absent", func() error { _, _, err := b.Get(ctx, "/absent"); return err }, "get", nil},
		{"update stale", func() error { _, err := b.Update(ctx, "/a", []byte("2"), rev+100, 0); return err }, "update", storage.ErrConflict},
		{"update", func() (err error) { rev, err = b.Update(ctx, "/a", []byte("2"), rev, 0); return err }, "update", nil},
		{"range", func() error {
			_, err := b.Range(ctx, "/", "", 0, func(storage.KeyValue) bool { return true })
			return err
		}, "range", nil},
		{"range future revision", func() error {
			_, err := b.Range(ctx, "/", "", rev+100, func(storage.KeyValue) bool { return true })
			return err
		}, "range", storage.ErrTooLargeRevision},
		{"count", func() error { _, err := b.Count(ctx, "/"); return err }, "count", nil},
		{"delete", func() error { _, _, err := b.Delete(ctx, "/a", 0); return err }, "delete", nil},
		{"delete absent", func() error { _, _, err := b.Delete(ctx, "/a", 0); return err }, "delete", storage.ErrKeyNotFound},
	}
	want := map[string]float64{}
	for _, op := range operationNames {
		for _, result := range []string{"ok", "error"} {
			want[series("tug_storage_operations_total", map[string]string{"operation": op, "result": result})] = 0
		}
		want[series("tug_storage_operation_duration_seconds_count", map[string]string{"operation": op})] = 0
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := s.run()
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("got error %v, want %v", err, s.wantErr)
			}
		})
		result := "ok"
		if s.wantErr != nil {
			result = "error"
		}
		want[series("tug_storage_operations_total", map[string]string{"operation": s.op, "result": result})]++
		want[series("tug_storage_operation_duration_seconds_count", map[string]string{"operation": s.op})]++
	}
	got := scrape(t, m, "tug_storage_")
	maps.DeleteFunc(got, func(k string, _ float64) bool {
		return strings.HasPrefix(k, "tug_storage_operation_duration_seconds_sum") // real time; counts are checked
	})
	current, err := b.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want["tug_storage_revision{}"] = float64(current)
	want["tug_storage_watchers{}"] = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/metrics tug_storage_ series (-want +got):\n%s", diff)
	}
}

// TestInstrumentBackendWatchers checks tug_storage_watchers follows open
// watches: up while a watch delivers, down once its channel is closed,
// whether the watch ends by its context or by Close.
func TestInstrumentBackendWatchers(t *testing.T) {
	m := New()
	b := m.InstrumentBackend(openBolt(t))
	watchers := func() float64 { return scrape(t, m, "tug_storage_watchers")["tug_storage_watchers{}"] }

	ctx, cancel := context.WithCancel(t.Context())
	canceled := b.Watch(ctx, "/w/", true, 0)
	idle := b.Watch(t.Context(), "/w/", true, 0) // never read; ended by Close
	if got := watchers(); got != 2 {
		t.Fatalf("watchers with two watches open = %v, want 2", got)
	}
	if _, err := b.Create(t.Context(), "/w/1", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-canceled:
		if resp.Err != nil || len(resp.Events) != 1 || resp.Events[0].KV.Key != "/w/1" {
			t.Fatalf("watch response %+v, want the create of /w/1", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event through the instrumented watch")
	}
	cancel()
	for range canceled {
	}
	if got := watchers(); got != 1 {
		t.Fatalf("watchers after one watch ended = %v, want 1", got)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waited for the forwarder: its channel is closed and the gauge is down.
	for range idle {
	}
	if got := watchers(); got != 0 {
		t.Fatalf("watchers after Close = %v, want 0", got)
	}
	if got := scrape(t, m, "tug_storage_revision"); len(got) != 0 {
		t.Errorf("a closed backend still reports its revision: %v", got)
	}
}

// BenchmarkInstrumentBackendGet measures what the wrapper adds to a read.
func BenchmarkInstrumentBackendGet(b *testing.B) {
	inner := openBolt(b)
	defer func() { _ = inner.Close() }()
	if _, err := inner.Create(b.Context(), "/k", []byte("v"), 0); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		b    storage.Backend
	}{{"bare", inner}, {"instrumented", New().InstrumentBackend(inner)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := bc.b.Get(b.Context(), "/k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
