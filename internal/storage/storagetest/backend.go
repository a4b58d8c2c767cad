package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/storage"
)

// RunBackendSuite checks that the backends f opens keep the
// storage.Backend contract: writes and their errors, revisions, ranges at
// current and past revisions, compaction, count, TTL, watches, and
// ordering under concurrent writers. Every case opens its own backend.
func RunBackendSuite(t *testing.T, f Factory) {
	cases := []struct {
		name string
		run  func(t *testing.T, f Factory)
	}{
		{"Create", testCreate},
		{"Get", testGet},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"RevisionAccounting", testRevisionAccounting},
		{"Range", testRange},
		{"RangeAtRevision", testRangeAtRevision},
		{"RangeRevisionErrors", testRangeRevisionErrors},
		{"RangeCompacted", testRangeCompacted},
		{"Count", testCount},
		{"TTL", testTTL},
		{"WatchKey", testWatchKey},
		{"WatchPrefix", testWatchPrefix},
		{"WatchFromRevision", testWatchFromRevision},
		{"WatchCompacted", testWatchCompacted},
		{"WatchCancel", testWatchCancel},
		{"WatchStalledWatcher", testWatchStalled},
		{"WatchConcurrentWriters", testWatchConcurrentWriters},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f) })
	}
}

func testCreate(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	before := revision(t, b)

	value := []byte("v1")
	rev, err := b.Create(ctx, "/registry/things/a", value, 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if rev != before+1 {
		t.Fatalf("Create returned revision %d, want %d", rev, before+1)
	}
	value[0] = 'X' // the backend must not retain the caller's slice

	kv, _, err := b.Get(ctx, "/registry/things/a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := &storage.KeyValue{Key: "/registry/things/a", Value: []byte("v1"), CreateRevision: rev, ModRevision: rev}
	if diff := cmp.Diff(want, kv, kvOpts); diff != "" {
		t.Fatalf("Get after Create (-want +got):\n%s", diff)
	}

	_, err = b.Create(ctx, "/registry/things/a", []byte("v2"), 0)
	wantErr(t, "Create of an existing key", err, storage.IsExists, "IsExists")
	if got := revision(t, b); got != rev {
		t.Fatalf("failed Create moved the revision from %d to %d", rev, got)
	}
	kv, _, err = b.Get(ctx, "/registry/things/a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, kv, kvOpts); diff != "" {
		t.Fatalf("failed Create changed the key (-want +got):\n%s", diff)
	}
}

func testGet(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	r := newRecorder(t, b)
	r.create("/registry/things/a", "a")
	r.create("/registry/things/ab", "ab")

	cases := []struct {
		key  string
		want *storage.KeyValue
	}{
		{"/registry/things/a", &storage.KeyValue{Key: "/registry/things/a", Value: []byte("a"), CreateRevision: r.base + 1, ModRevision: r.base + 1}},
		{"/registry/things/ab", &storage.KeyValue{Key: "/registry/things/ab", Value: []byte("ab"), CreateRevision: r.base + 2, ModRevision: r.base + 2}},
		{"/registry/things/absent", nil},
		{"/registry/things/", nil},
		{"/registry/things/a/", nil},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			kv, rev, err := b.Get(ctx, c.key)
			if err != nil {
				t.Fatalf("Get(%q): %v", c.key, err)
			}
			if diff := cmp.Diff(c.want, kv, kvOpts); diff != "" {
				t.Errorf("Get(%q) (-want +got):\n%s", c.key, diff)
			}
			if rev != r.rev() {
				t.Errorf("Get(%q) read revision %d, want the current %d", c.key, rev, r.rev())
			}
		})
	}
}

func testUpdate(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	r := newRecorder(t, b)
	created := r.create("/registry/things/a", "v1")
	updated := r.update("/registry/things/a", "v2")

	kv, _, err := b.Get(ctx, "/registry/things/a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := &storage.KeyValue{Key: "/registry/things/a", Value: []byte("v2"), CreateRevision: created, ModRevision: updated}
	if diff := cmp.Diff(want, kv, kvOpts); diff != "" {
		t.Fatalf("Get after Update (-want +got): CreateRevision must stay the creation revision\n%s", diff)
	}
	r.update("/registry/things/a", "v3")
	want = &storage.KeyValue{Key: "/registry/things/a", Value: []byte("v3"), CreateRevision: created, ModRevision: r.rev()}

	failures := []struct {
		name     string
		key      string
		expected int64
		is       func(error) bool
		isName   string
	}{
		{"stale revision", "/registry/things/a", updated, storage.IsConflict, "IsConflict"},
		{"creation revision", "/registry/things/a", created, storage.IsConflict, "IsConflict"},
		{"future revision", "/registry/things/a", r.rev() + 1, storage.IsConflict, "IsConflict"},
		{"zero revision", "/registry/things/a", 0, storage.IsConflict, "IsConflict"},
		{"missing key", "/registry/things/b", r.rev(), storage.IsNotFound, "IsNotFound"},
		{"missing key zero revision", "/registry/things/b", 0, storage.IsNotFound, "IsNotFound"},
	}
	for _, c := range failures {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.Update(ctx, c.key, []byte("nope"), c.expected, 0)
			wantErr(t, fmt.Sprintf("Update(%s, expected %d)", c.key, c.expected), err, c.is, c.isName)
			if got := revision(t, b); got != r.rev() {
				t.Fatalf("failed Update moved the revision from %d to %d", r.rev(), got)
			}
			kv, _, err := b.Get(ctx, "/registry/things/a")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(want, kv, kvOpts); diff != "" {
				t.Fatalf("failed Update changed the key (-want +got):\n%s", diff)
			}
			if kv, _, _ := b.Get(ctx, "/registry/things/b"); kv != nil {
				t.Fatalf("failed Update of a missing key created it: %+v", kv)
			}
		})
	}
}

func testDelete(t *testing.T, f Factory) {
	cases := []struct {
		name     string
		expected func(mod int64) int64
		is       func(error) bool // nil: the delete succeeds
		isName   string
	}{
		{"unconditional", func(int64) int64 { return 0 }, nil, ""},
		{"matching revision", func(mod int64) int64 { return mod }, nil, ""},
		{"stale revision", func(mod int64) int64 { return mod - 1 }, storage.IsConflict, "IsConflict"},
		{"future revision", func(mod int64) int64 { return mod + 1 }, storage.IsConflict, "IsConflict"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := open(t, f)
			ctx := t.Context()
			r := newRecorder(t, b)
			created := r.create("/registry/things/a", "v1")
			mod := r.update("/registry/things/a", "v2")
			last := &storage.KeyValue{Key: "/registry/things/a", Value: []byte("v2"), CreateRevision: created, ModRevision: mod}

			prev, rev, err := b.Delete(ctx, "/registry/things/a", c.expected(mod))
			if c.is != nil {
				wantErr(t, "Delete", err, c.is, c.isName)
				if got := revision(t, b); got != mod {
					t.Fatalf("failed Delete moved the revision from %d to %d", mod, got)
				}
				kv, _, err := b.Get(ctx, "/registry/things/a")
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if diff := cmp.Diff(last, kv, kvOpts); diff != "" {
					t.Fatalf("failed Delete changed the key (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if rev != mod+1 {
				t.Fatalf("Delete returned revision %d, want %d", rev, mod+1)
			}
			if got := revision(t, b); got != rev {
				t.Fatalf("Revision() after Delete = %d, want %d", got, rev)
			}
			if diff := cmp.Diff(last, prev, kvOpts); diff != "" {
				t.Fatalf("Delete's last state (-want +got):\n%s", diff)
			}
			if kv, _, err := b.Get(ctx, "/registry/things/a"); err != nil || kv != nil {
				t.Fatalf("Get after Delete = %+v, %v; want nil, nil", kv, err)
			}
			_, _, err = b.Delete(ctx, "/registry/things/a", 0)
			wantErr(t, "second Delete", err, storage.IsNotFound, "IsNotFound")

			recreated, err := b.Create(ctx, "/registry/things/a", []byte("v3"), 0)
			if err != nil {
				t.Fatalf("Create after Delete: %v", err)
			}
			kv, _, err := b.Get(ctx, "/registry/things/a")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			want := &storage.KeyValue{Key: "/registry/things/a", Value: []byte("v3"), CreateRevision: recreated, ModRevision: recreated}
			if diff := cmp.Diff(want, kv, kvOpts); diff != "" {
				t.Fatalf("recreated key must have a new CreateRevision (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing key", func(t *testing.T) {
		b := open(t, f)
		before := revision(t, b)
		for _, expected := range []int64{0, 1, before + 1} {
			_, _, err := b.Delete(t.Context(), "/registry/things/none", expected)
			wantErr(t, fmt.Sprintf("Delete of a missing key, expected %d", expected), err, storage.IsNotFound, "IsNotFound")
		}
		if got := revision(t, b); got != before {
			t.Fatalf("failed Delete moved the revision from %d to %d", before, got)
		}
	})
}

// testRevisionAccounting runs a script of writes, successful or not, and
// checks each one's effect on the global revision.
func testRevisionAccounting(t *testing.T, f Factory) {
	b := open(t, f)
	ctx := t.Context()
	type step struct {
		op       string // create, update, delete
		key      string
		expected int64 // for update and delete; -1: the key's ModRevision
		fails    bool
	}
	script := []step{
		{"create", "/r/a", 0, false},
		{"create", "/r/b", 0, false},
		{"create", "/r/a", 0, true},
		{"update", "/r/a", -1, false},
		{"update", "/r/a", 1, true},
		{"update", "/r/c", -1, true},
		{"delete", "/r/b", 0, false},
		{"delete", "/r/b", 0, true},
		{"update", "/r/a", -1, false},
		{"create", "/r/b", 0, false},
		{"delete", "/r/a", -1, false},
		{"create", "/r/a", 0, false},
	}
	mods := map[string]int64{}
	creates := map[string]int64{}
	rev := revision(t, b)
	for i, s := range script {
		expected := s.expected
		if expected < 0 {
			expected = mods[s.key]
		}
		var (
			got int64
			err error
		)
		switch s.op {
		case "create":
			got, err = b.Create(ctx, s.key, fmt.Appendf(nil, "%d", i), 0)
		case "update":
			got, err = b.Update(ctx, s.key, fmt.Appendf(nil, "%d", i), expected, 0)
		case "delete":
			_, got, err = b.Delete(ctx, s.key, expected)
		}
		desc := fmt.Sprintf("step %d: %s %s", i, s.op, s.key)
		if s.fails {
			if err == nil {
				t.Fatalf("%s succeeded, want an error", desc)
			}
			if now := revision(t, b); now != rev {
				t.Fatalf("%s failed but moved the revision from %d to %d", desc, rev, now)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		rev++
		if got != rev {
			t.Fatalf("%s returned revision %d, want %d", desc, got, rev)
		}
		if now := revision(t, b); now != rev {
			t.Fatalf("%s: Revision() = %d, want %d", desc, now, rev)
		}
		switch s.op {
		case "create":
			creates[s.key], mods[s.key] = rev, rev
		case "update":
			mods[s.key] = rev
		case "delete":
			delete(creates, s.key)
			delete(mods, s.key)
		}
		kv, readRev, err := b.Get(ctx, s.key)
		if err != nil {
			t.Fatalf("%s: Get: %v", desc, err)
		}
		if readRev != rev {
			t.Fatalf("%s: Get read revision %d, want %d", desc, readRev, rev)
		}
		switch {
		case s.op == "delete" && kv != nil:
			t.Fatalf("%s: key still there: %+v", desc, kv)
		case s.op != "delete" && (kv == nil || kv.ModRevision != rev || kv.CreateRevision != creates[s.key]):
			t.Fatalf("%s: Get = %+v, want ModRevision %d and CreateRevision %d", desc, kv, rev, creates[s.key])
		}
	}
}

func testCount(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	for _, k := range []string{"/a/1", "/a/2", "/a/3", "/ab/x", "/b/1", "/a"} {
		r.create(k, k)
	}
	r.delete("/a/2")
	cases := []struct {
		prefix string
		want   int64
	}{
		{"/a/", 2},
		{"/a", 4},
		{"/ab/", 1},
		{"/b/", 1},
		{"/c/", 0},
		{"/", 5},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			got, err := b.Count(t.Context(), c.prefix)
			if err != nil {
				t.Fatalf("Count(%q): %v", c.prefix, err)
			}
			if got != c.want {
				t.Fatalf("Count(%q) = %d, want %d", c.prefix, got, c.want)
			}
		})
	}
}

// testTTL checks keys created or updated with a TTL disappear by
// themselves, as delete events, while a key without one stays.
func testTTL(t *testing.T, f Factory) {
	t.Parallel() // mostly waiting
	b := open(t, f)
	ctx := t.Context()
	keep, err := b.Create(ctx, "/registry/events/keep", []byte("keep"), 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	w := b.Watch(ctx, "/registry/events/", true, keep)
	short, err := b.Create(ctx, "/registry/events/short", []byte("short"), time.Second)
	if err != nil {
		t.Fatalf("Create with ttl: %v", err)
	}
	created, err := b.Create(ctx, "/registry/events/updated", []byte("v1"), 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	updated, err := b.Update(ctx, "/registry/events/updated", []byte("v2"), created, time.Second)
	if err != nil {
		t.Fatalf("Update with ttl: %v", err)
	}
	for _, k := range []string{"/registry/events/short", "/registry/events/updated"} {
		if kv, _, err := b.Get(ctx, k); err != nil || kv == nil {
			t.Fatalf("Get %s right after a write with ttl = %v, %v; want the key", k, kv, err)
		}
	}

	evs := receive(t, w, 5)
	if got := describeEvents(evs[:3]); evs[0].KV.ModRevision != short || evs[2].KV.ModRevision != updated {
		t.Fatalf("first events %s, want the writes at %d, %d and %d", got, short, created, updated)
	}
	prevs := map[string]*storage.KeyValue{
		"/registry/events/short":   {Key: "/registry/events/short", Value: []byte("short"), CreateRevision: short, ModRevision: short},
		"/registry/events/updated": {Key: "/registry/events/updated", Value: []byte("v2"), CreateRevision: created, ModRevision: updated},
	}
	last := updated
	for _, ev := range evs[3:] {
		want, ok := prevs[ev.KV.Key]
		if ev.Type != storage.EventDelete || !ok || ev.KV.ModRevision <= last {
			t.Fatalf("events %s, want the TTL deletes of short and updated", describeEvents(evs[3:]))
		}
		if diff := cmp.Diff(want, ev.Prev, kvOpts); diff != "" {
			t.Fatalf("TTL delete event's Prev (-want +got):\n%s", diff)
		}
		delete(prevs, ev.KV.Key)
		last = ev.KV.ModRevision
	}
	for _, k := range []string{"/registry/events/short", "/registry/events/updated"} {
		if kv, _, err := b.Get(ctx, k); err != nil || kv != nil {
			t.Fatalf("Get %s after its TTL delete event = %+v, %v; want nil", k, kv, err)
		}
	}
	if now := revision(t, b); now < last {
		t.Fatalf("Revision() = %d after a delete at %d", now, last)
	}
	kv, _, err := b.Get(ctx, "/registry/events/keep")
	if err != nil || kv == nil {
		t.Fatalf("key without ttl: Get = %v, %v; want it kept", kv, err)
	}
}
