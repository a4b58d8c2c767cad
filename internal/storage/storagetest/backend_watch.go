package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/tugcluster/tug/internal/storage"
)

// Watch cases end with a sentinel write the watch must see next: that
// proves nothing else (a duplicate, a stray key) was delivered before it,
// without waiting for silence.

func testWatchKey(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	r := newRecorder(t, b)
	r.create("/w/a", "before") // not delivered: the watch starts from now
	start := r.rev()
	w := b.Watch(ctx, "/w/a", false, 0)

	r.update("/w/a", "a2")
	r.create("/w/a0", "sibling") // a longer key with the watched key as prefix
	r.create("/w/b", "other")
	r.delete("/w/a")
	r.create("/w/a", "again")
	r.update("/w/a0", "sibling2")
	r.update("/w/a", "sentinel")

	want := r.eventsAfter(start, "/w/a", false)
	got := receive(t, w, len(want))
	if diff := cmp.Diff(want, normalizeEvents(got), kvOpts); diff != "" {
		t.Fatalf("watch of one key (-want +got):\n%s", diff)
	}
	checkEventShape(t, got)
}

func testWatchPrefix(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	r := newRecorder(t, b)
	r.create("/w/a/1", "before")
	start := r.rev()
	w := b.Watch(ctx, "/w/a/", true, 0)

	r.create("/w/a/2", "2")
	r.create("/w/ab/x", "outside")
	r.create("/w/a", "outside")
	r.update("/w/a/1", "1b")
	r.delete("/w/a/2")
	r.create("/w/b/1", "outside")
	r.create("/w/a/3/x", "deep")
	r.update("/w/ab/x", "outside")
	r.create("/w/a/sentinel", "sentinel")

	want := r.eventsAfter(start, "/w/a/", true)
	got := receive(t, w, len(want))
	if diff := cmp.Diff(want, normalizeEvents(got), kvOpts); diff != "" {
		t.Fatalf("watch of a prefix (-want +got):\n%s", diff)
	}
	checkEventShape(t, got)
}

// testWatchFromRevision starts watches at every revision of a history and
// checks each replays exactly the changes after it, then goes on live.
func testWatchFromRevision(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	r.create("/w/a", "a1")
	r.create("/w/b", "b1")
	r.update("/w/a", "a2")
	r.create("/x/other", "o")
	r.delete("/w/b")
	r.create("/w/b", "b2")
	r.update("/w/a", "a3")
	r.delete("/w/a")
	history := r.rev()

	type watch struct {
		name   string
		from   int64
		key    string
		prefix bool
		ch     <-chan storage.WatchResponse
	}
	// from 0 means from now: it replays nothing.
	watches := []*watch{
		{name: "prefix from 0", key: "/w/", prefix: true},
		{name: "key from 0", key: "/w/a"},
	}
	for from := max(r.base, 1); from <= history; from++ {
		watches = append(watches,
			&watch{name: fmt.Sprintf("prefix from %d", from), from: from, key: "/w/", prefix: true},
			&watch{name: fmt.Sprintf("key from %d", from), from: from, key: "/w/a"})
	}
	for _, w := range watches {
		w.ch = b.Watch(t.Context(), w.key, w.prefix, w.from)
	}
	r.create("/w/a", "live")
	r.update("/w/b", "live")
	r.update("/w/a", "sentinel")

	for _, w := range watches {
		t.Run(w.name, func(t *testing.T) {
			from := w.from
			if from == 0 {
				from = history
			}
			want := r.eventsAfter(from, w.key, w.prefix)
			got := receive(t, w.ch, len(want))
			if diff := cmp.Diff(want, normalizeEvents(got), kvOpts); diff != "" {
				t.Fatalf("watch of %s from %d (-want +got):\n%s", w.key, w.from, diff)
			}
			checkEventShape(t, got)
		})
	}
}

func testWatchCompacted(t *testing.T, f Factory) {
	b := open(t, f)
	c := compactor(t, b)
	r := newRecorder(t, b)
	r.create("/w/a", "1")
	r.update("/w/a", "2")
	r.update("/w/a", "3")
	r.update("/w/a", "4")
	if err := c.Compact(t.Context(), r.rev()); err != nil {
		t.Fatalf("Compact(%d): %v", r.rev(), err)
	}
	for _, prefix := range []bool{false, true} {
		t.Run(fmt.Sprintf("prefix=%v", prefix), func(t *testing.T) {
			ch := b.Watch(t.Context(), "/w/a", prefix, r.base+1)
			select {
			case resp, ok := <-ch:
				if !ok {
					t.Fatal("watch from a compacted revision closed without an error")
				}
				if resp.Err == nil {
					t.Fatalf("watch from compacted revision %d delivered %s, want an expired error", r.base+1, describeEvents(resp.Events))
				}
				if !storage.IsExpired(resp.Err) {
					t.Fatalf("watch from a compacted revision failed with %v, want IsExpired", resp.Err)
				}
				if len(resp.Events) != 0 {
					t.Fatalf("error response also carries events %s", describeEvents(resp.Events))
				}
			case <-waitAfter():
				t.Fatalf("no response in %v from a watch at a compacted revision", waitTimeout)
			}
			waitClosed(t, ch)
		})
	}
	t.Run("after compacted revision", func(t *testing.T) {
		ch := b.Watch(t.Context(), "/w/a", false, r.rev())
		r.update("/w/a", "5")
		want := r.eventsAfter(r.rev()-1, "/w/a", false)
		if diff := cmp.Diff(want, normalizeEvents(receive(t, ch, 1)), kvOpts); diff != "" {
			t.Fatalf("watch from the compacted revision itself (-want +got):\n%s", diff)
		}
	})
}

func testWatchCancel(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	r.create("/w/a", "1")
	for _, from := range []int64{0, r.base} {
		t.Run(fmt.Sprintf("from %d", from), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			ch := b.Watch(ctx, "/w/", true, from)
			cancel()
			waitClosed(t, ch)
		})
	}
	t.Run("after events", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		ch := b.Watch(ctx, "/w/", true, 0)
		r.update("/w/a", "2")
		receive(t, ch, 1)
		cancel()
		r.update("/w/a", "3") // must not block on the canceled watcher
		waitClosed(t, ch)
	})
}

// stalledWritesTimeout only catches writers that are blocked for good.
const stalledWritesTimeout = 2 * time.Minute

// testWatchStalled checks a watcher that never reads does not hold up
// writers, and that once it reads it gets a gap-free prefix of the
// changes, complete or ended by an error.
func testWatchStalled(t *testing.T, f Factory) {
	const writers, perWriter = 8, 625 // 5000 writes
	b := open(t, f)
	ctx := t.Context()
	start := revision(t, b)
	stalled := b.Watch(ctx, "/s/", true, 0)
	stalledKey := b.Watch(ctx, "/s/0/0", false, 0)

	var g errgroup.Group
	for w := range writers {
		g.Go(func() error {
			for i := range perWriter {
				if _, err := b.Create(ctx, fmt.Sprintf("/s/%d/%d", w, i), []byte("value"), 0); err != nil {
					return fmt.Errorf("writer %d, write %d: %w", w, i, err)
				}
			}
			return nil
		})
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("writes with a stalled watcher: %v", err)
		}
	case <-time.After(stalledWritesTimeout):
		t.Fatalf("%d writes did not complete in %v: a watcher that does not read blocks writers", writers*perWriter, stalledWritesTimeout)
	}
	end := revision(t, b)
	if end != start+writers*perWriter {
		t.Fatalf("revision went from %d to %d over %d writes", start, end, writers*perWriter)
	}

	next := start + 1
	timer := waitAfter()
	for next <= end {
		select {
		case resp, ok := <-stalled:
			if !ok {
				t.Fatalf("stalled watch closed without an error at revision %d of %d", next, end)
			}
			if resp.Err != nil {
				t.Logf("stalled watcher cut off at revision %d of %d: %v", next, end, resp.Err)
				waitClosed(t, stalled)
				return
			}
			for _, ev := range resp.Events {
				if ev.KV.ModRevision != next {
					t.Fatalf("stalled watcher got revision %d, want %d (a gap or a duplicate)", ev.KV.ModRevision, next)
				}
				next++
			}
		case <-timer:
			t.Fatalf("stalled watcher neither caught up nor was cut off in %v: at revision %d of %d", waitTimeout, next, end)
		}
	}
	// Progress notifications (no events) may come first.
	for {
		select {
		case resp, ok := <-stalledKey:
			if ok && resp.Err == nil && len(resp.Events) == 0 {
				continue
			}
			if ok && resp.Err == nil && (len(resp.Events) != 1 || resp.Events[0].KV.Key != "/s/0/0") {
				t.Fatalf("stalled key watcher got %s, want the one write to /s/0/0", describeEvents(resp.Events))
			}
		case <-waitAfter():
			t.Fatalf("stalled key watcher delivered nothing in %v", waitTimeout)
		}
		return
	}
}

// testWatchConcurrentWriters checks a prefix watcher sees every revision
// exactly once, in order, while writers race.
func testWatchConcurrentWriters(t *testing.T, f Factory) {
	const writers, perWriter = 8, 200
	b := open(t, f)
	ctx := t.Context()
	start := revision(t, b)
	w := b.Watch(ctx, "/c/", true, 0)

	var g errgroup.Group
	for n := range writers {
		g.Go(func() error {
			return churn(ctx, b, fmt.Sprintf("/c/%d/", n), perWriter)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("writers: %v", err)
	}
	end := revision(t, b)
	if end != start+writers*perWriter {
		t.Fatalf("revision went from %d to %d over %d writes", start, end, writers*perWriter)
	}
	evs := receiveUntil(t, w, end)
	for i, ev := range evs {
		if want := start + 1 + int64(i); ev.KV.ModRevision != want {
			t.Fatalf("event %d has revision %d, want %d: every revision exactly once, in order", i, ev.KV.ModRevision, want)
		}
	}
	if len(evs) != writers*perWriter {
		t.Fatalf("got %d events, want %d", len(evs), writers*perWriter)
	}
	checkEventShape(t, evs)
}

// churn does n writes under prefix: it creates keys, updates them with
// their expected revision and deletes some.
func churn(ctx context.Context, b storage.Backend, prefix string, n int) error {
	mods := map[string]int64{}
	for i := range n {
		key := fmt.Sprintf("%s%d", prefix, i%5)
		var err error
		mod, ok := mods[key]
		switch {
		case !ok:
			mods[key], err = b.Create(ctx, key, fmt.Appendf(nil, "%d", i), 0)
		case i%7 == 0:
			_, _, err = b.Delete(ctx, key, mod)
			delete(mods, key)
		default:
			mods[key], err = b.Update(ctx, key, fmt.Appendf(nil, "%d", i), mod, 0)
		}
		if err != nil {
			return fmt.Errorf("write %d of %s: %w", i, key, err)
		}
	}
	return nil
}

// checkEventShape checks what every event must look like on its own.
func checkEventShape(t *testing.T, evs []storage.Event) {
	t.Helper()
	for i, ev := range evs {
		if i > 0 && ev.KV.ModRevision <= evs[i-1].KV.ModRevision {
			t.Errorf("event %d at revision %d follows revision %d", i, ev.KV.ModRevision, evs[i-1].KV.ModRevision)
		}
		switch ev.Type {
		case storage.EventPut:
			if ev.Prev == nil && ev.KV.CreateRevision != ev.KV.ModRevision {
				t.Errorf("create event %d of %s: CreateRevision %d, ModRevision %d", i, ev.KV.Key, ev.KV.CreateRevision, ev.KV.ModRevision)
			}
			if ev.Prev != nil && (ev.Prev.Key != ev.KV.Key || ev.Prev.ModRevision >= ev.KV.ModRevision || ev.Prev.CreateRevision != ev.KV.CreateRevision) {
				t.Errorf("update event %d of %s at %d has Prev %+v", i, ev.KV.Key, ev.KV.ModRevision, ev.Prev)
			}
		case storage.EventDelete:
			if ev.Prev == nil || ev.Prev.Key != ev.KV.Key || ev.Prev.ModRevision >= ev.KV.ModRevision {
				t.Errorf("delete event %d of %s at %d has Prev %+v", i, ev.KV.Key, ev.KV.ModRevision, ev.Prev)
			}
			if len(ev.KV.Value) != 0 {
				t.Errorf("delete event %d of %s carries a value", i, ev.KV.Key)
			}
		default:
			t.Errorf("event %d has unknown type %d", i, ev.Type)
		}
	}
}
