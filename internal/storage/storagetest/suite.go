package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tugcluster/tug/internal/storage"
)

// Factory opens a fresh, empty backend for one test; the suite closes it
// when the test ends.
type Factory func(t testing.TB) storage.Backend

// Compactor is implemented by backends that can discard history on demand.
// After Compact(ctx, rev) returns, reads at revisions below rev and watches
// that need an event at or below rev fail with an expired error; the state
// at rev itself stays readable. The suite runs its compaction cases only
// against backends that implement it.
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// waitTimeout bounds every wait for something that should happen promptly;
// it only fails tests that would otherwise hang, so it is generous.
const waitTimeout = 30 * time.Second

// open calls f and closes the backend when t ends. The test's context is
// canceled before that, so watches end first.
func open(t *testing.T, f Factory) storage.Backend {
	t.Helper()
	b := f(t)
	if b == nil {
		t.Fatal("factory returned a nil backend")
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// compactor returns b as a Compactor or skips the test.
func compactor(t *testing.T, b storage.Backend) Compactor {
	t.Helper()
	c, ok := b.(Compactor)
	if !ok {
		t.Skipf("%T does not implement storagetest.Compactor: cannot force compaction", b)
	}
	return c
}

// revision returns b's current revision.
func revision(t *testing.T, b storage.Backend) int64 {
	t.Helper()
	rev, err := b.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

// wantErr fails t unless err satisfies is.
func wantErr(t *testing.T, what string, err error, is func(error) bool, name string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, name)
	}
	if !is(err) {
		t.Fatalf("%s: got error %v (%T), want %s", what, err, err, name)
	}
}

// kvOpts compare KeyValues and Events: empty and nil values are equal.
var kvOpts = cmp.Options{cmpopts.EquateEmpty()}

// recorder performs writes on a backend that nobody else writes to and
// keeps the model of what the backend must hold: every event, in order.
// It checks each write's revision as it goes.
type recorder struct {
	t      *testing.T
	b      storage.Backend
	events []storage.Event // events[i] has revision base+i+1
	base   int64
	state  map[string]storage.KeyValue
}

func newRecorder(t *testing.T, b storage.Backend) *recorder {
	t.Helper()
	return &recorder{t: t, b: b, base: revision(t, b), state: map[string]storage.KeyValue{}}
}

func (r *recorder) rev() int64 { return r.base + int64(len(r.events)) }

// check verifies rev is exactly the next revision and that the backend
// reports it as current.
func (r *recorder) check(op string, rev int64) {
	r.t.Helper()
	if want := r.rev() + 1; rev != want {
		r.t.Fatalf("%s returned revision %d, want %d (every write increments the revision by exactly one)", op, rev, want)
	}
	if cur := revision(r.t, r.b); cur != rev {
		r.t.Fatalf("after %s at revision %d, Revision() = %d", op, rev, cur)
	}
}

func (r *recorder) create(key, value string) int64 {
	r.t.Helper()
	rev, err := r.b.Create(r.t.Context(), key, []byte(value), 0)
	if err != nil {
		r.t.Fatalf("Create %s: %v", key, err)
	}
	r.check("Create "+key, rev)
	kv := storage.KeyValue{Key: key, Value: []byte(value), CreateRevision: rev, ModRevision: rev}
	r.events = append(r.events, storage.Event{Type: storage.EventPut, KV: kv})
	r.state[key] = kv
	return rev
}

func (r *recorder) update(key, value string) int64 {
	r.t.Helper()
	prev, ok := r.state[key]
	if !ok {
		r.t.Fatalf("recorder: update of %s, which it did not create", key)
	}
	rev, err := r.b.Update(r.t.Context(), key, []byte(value), prev.ModRevision, 0)
	if err != nil {
		r.t.Fatalf("Update %s: %v", key, err)
	}
	r.check("Update "+key, rev)
	kv := storage.KeyValue{Key: key, Value: []byte(value), CreateRevision: prev.CreateRevision, ModRevision: rev}
	r.events = append(r.events, storage.Event{Type: storage.EventPut, KV: kv, Prev: &prev})
	r.state[key] = kv
	return rev
}

func (r *recorder) delete(key string) int64 {
	r.t.Helper()
	prev, ok := r.state[key]
	if !ok {
		r.t.Fatalf("recorder: delete of %s, which it did not create", key)
	}
	got, rev, err := r.b.Delete(r.t.Context(), key, 0)
	if err != nil {
		r.t.Fatalf("Delete %s: %v", key, err)
	}
	r.check("Delete "+key, rev)
	if diff := cmp.Diff(&prev, got, kvOpts); diff != "" {
		r.t.Fatalf("Delete %s returned a last state other than the stored one (-want +got):\n%s", key, diff)
	}
	r.events = append(r.events, storage.Event{
		Type: storage.EventDelete,
		KV:   storage.KeyValue{Key: key, ModRevision: rev},
		Prev: &prev,
	})
	delete(r.state, key)
	return rev
}

// eventsAfter returns the recorded events above rev that a watch of key
// (or of every key under it, if prefix) must deliver.
func (r *recorder) eventsAfter(rev int64, key string, prefix bool) []storage.Event {
	var out []storage.Event
	for _, ev := range r.events {
		if ev.KV.ModRevision > rev && matchKey(ev.KV.Key, key, prefix) {
			out = append(out, ev)
		}
	}
	return out
}

// snapshot returns the keys under prefix as of rev, in key order.
func (r *recorder) snapshot(rev int64, prefix string) []storage.KeyValue {
	state := map[string]storage.KeyValue{}
	for _, ev := range r.events {
		if ev.KV.ModRevision > rev {
			break
		}
		if ev.Type == storage.EventDelete {
			delete(state, ev.KV.Key)
		} else {
			state[ev.KV.Key] = ev.KV
		}
	}
	var out []storage.KeyValue
	for k, kv := range state {
		if matchKey(k, prefix, true) {
			out = append(out, kv)
		}
	}
	sortKVs(out)
	return out
}

func matchKey(k, key string, prefix bool) bool {
	if prefix {
		return strings.HasPrefix(k, key)
	}
	return k == key
}

func sortKVs(kvs []storage.KeyValue) {
	slices.SortFunc(kvs, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
}

// rangeAll collects a Range, copying values out of the callback.
func rangeAll(ctx context.Context, b storage.Backend, prefix, start string, rev int64) ([]storage.KeyValue, int64, error) {
	var out []storage.KeyValue
	got, err := b.Range(ctx, prefix, start, rev, func(kv storage.KeyValue) bool {
		kv.Value = bytes.Clone(kv.Value)
		out = append(out, kv)
		return true
	})
	return out, got, err
}

// normalizeEvents drops what the contract leaves open: the
// CreateRevision of a delete event's KV.
func normalizeEvents(evs []storage.Event) []storage.Event {
	out := make([]storage.Event, len(evs))
	for i, ev := range evs {
		if ev.Type == storage.EventDelete {
			ev.KV.CreateRevision = 0
			ev.KV.Value = nil
		}
		out[i] = ev
	}
	return out
}

// receive reads events from ch until it has n of them. It fails on an
// error response, a closed channel or after waitTimeout.
func receive(t *testing.T, ch <-chan storage.WatchResponse, n int) []storage.Event {
	t.Helper()
	var out []storage.Event
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(out) < n {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %s", len(out), n, describeEvents(out))
			}
			if resp.Err != nil {
				t.Fatalf("watch failed after %d of %d events: %v", len(out), n, resp.Err)
			}
			if len(resp.Events) == 0 && resp.Revision == 0 {
				t.Fatalf("watch sent an empty response with no progress revision after %d events", len(out))
			}
			if n := len(resp.Events); n > 0 && resp.Revision != 0 && resp.Revision < resp.Events[n-1].KV.ModRevision {
				t.Fatalf("response revision %d is below its last event's %d", resp.Revision, resp.Events[n-1].KV.ModRevision)
			}
			out = append(out, resp.Events...)
		case <-timer.C:
			t.Fatalf("watch delivered %d of %d events in %v: %s", len(out), n, waitTimeout, describeEvents(out))
		}
	}
	return out
}

// receiveUntil reads events from ch until one at revision last or beyond
// arrives, and returns them all.
func receiveUntil(t *testing.T, ch <-chan storage.WatchResponse, last int64) []storage.Event {
	t.Helper()
	var out []storage.Event
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(out) == 0 || out[len(out)-1].KV.ModRevision < last {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed before revision %d: %s", last, describeEvents(out))
			}
			if resp.Err != nil {
				t.Fatalf("watch failed before revision %d: %v", last, resp.Err)
			}
			out = append(out, resp.Events...)
		case <-timer.C:
			t.Fatalf("watch did not reach revision %d in %v: %s", last, waitTimeout, describeEvents(out))
		}
	}
	return out
}

// waitClosed fails unless ch is closed within waitTimeout; it discards
// anything still queued.
func waitClosed[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("channel not closed %v after the watch was stopped", waitTimeout)
		}
	}
}

func describeEvents(evs []storage.Event) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(" ")
		}
		op := "put"
		if ev.Type == storage.EventDelete {
			op = "del"
		}
		fmt.Fprintf(&b, "%s:%s@%d", op, ev.KV.Key, ev.KV.ModRevision)
		if i == 20 && len(evs) > 22 {
			fmt.Fprintf(&b, " …(%d more)", len(evs)-21)
			break
		}
	}
	b.WriteString("]")
	return b.String()
}

// waitAfter returns a channel that fires after waitTimeout.
func waitAfter() <-chan time.Time { return time.After(waitTimeout) }
