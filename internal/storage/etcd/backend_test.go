package etcd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/etcd"
	"github.com/tugcluster/tug/internal/storage/etcd/etcdtest"
)

func newBackend(t *testing.T, opts etcd.Options) *etcd.Backend {
	t.Helper()
	b, err := etcd.New(etcdtest.New(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestCRUD(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, etcd.Options{})
	const key = "/registry/configmaps/default/a"

	rev1, err := b.Create(ctx, key, []byte("one"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, key, []byte("again"), 0); !storage.IsExists(err) {
		t.Fatalf("second Create: got %v, want key exists", err)
	}
	kv, rev, err := b.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	want := &storage.KeyValue{Key: key, Value: []byte("one"), CreateRevision: rev1, ModRevision: rev1}
	if diff := cmp.Diff(want, kv); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if rev != rev1 {
		t.Errorf("Get revision = %d, want %d", rev, rev1)
	}

	if _, err := b.Update(ctx, key, []byte("stale"), rev1-1, 0); !storage.IsConflict(err) {
		t.Errorf("Update at old revision: got %v, want conflict", err)
	}
	if _, err := b.Update(ctx, key+"x", []byte("x"), 0, 0); !storage.IsNotFound(err) {
		t.Errorf("Update of missing key: got %v, want not found", err)
	}
	rev2, err := b.Update(ctx, key, []byte("two"), rev1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rev2 != rev1+1 {
		t.Errorf("Update revision = %d, want %d", rev2, rev1+1)
	}

	if _, _, err := b.Delete(ctx, key, rev1); !storage.IsConflict(err) {
		t.Errorf("Delete at old revision: got %v, want conflict", err)
	}
	prev, rev3, err := b.Delete(ctx, key, rev2)
	if err != nil {
		t.Fatal(err)
	}
	if string(prev.Value) != "two" || rev3 != rev2+1 {
		t.Errorf("Delete = %q at %d, want %q at %d", prev.Value, rev3, "two", rev2+1)
	}
	if _, _, err := b.Delete(ctx, key, 0); !storage.IsNotFound(err) {
		t.Errorf("Delete of missing key: got %v, want not found", err)
	}
	if kv, _, err := b.Get(ctx, key); err != nil || kv != nil {
		t.Errorf("Get after delete = %v, %v; want nil, nil", kv, err)
	}
}

func TestRange(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, etcd.Options{PageSize: 3}) // several pages
	var revs []int64
	for i := range 10 {
		rev, err := b.Create(ctx, fmt.Sprintf("/p/k%02d", i), []byte{byte(i)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	if _, err := b.Create(ctx, "/q/other", nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Update(ctx, "/p/k00", []byte("new"), revs[0], 0); err != nil {
		t.Fatal(err)
	}

	keys := func(start string, rev int64, limit int) ([]string, int64, error) {
		var got []string
		read, err := b.Range(ctx, "/p/", start, rev, func(kv storage.KeyValue) bool {
			got = append(got, kv.Key)
			return len(got) < limit
		})
		return got, read, err
	}
	got, _, err := keys("", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0] != "/p/k00" || got[9] != "/p/k09" {
		t.Errorf("Range = %v", got)
	}
	got, _, err = keys("/p/k05", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/p/k05", "/p/k06"}, got); diff != "" {
		t.Errorf("Range from k05, limit 2 (-want +got):\n%s", diff)
	}
	got, read, err := keys("", revs[4], 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || read != revs[4] {
		t.Errorf("Range at %d = %v at %d, want 5 keys", revs[4], got, read)
	}
	if n, err := b.Count(ctx, "/p/"); err != nil || n != 10 {
		t.Errorf("Count = %d, %v; want 10", n, err)
	}

	cur, err := b.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys("", cur+10, 100); !storage.IsTooLargeRevision(err) {
		t.Errorf("Range at a future revision: got %v, want too large", err)
	}
	if err := b.Compact(ctx, revs[6]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys("", revs[4], 100); !storage.IsExpired(err) {
		t.Errorf("Range at a compacted revision: got %v, want expired", err)
	}
}

func TestWatch(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, etcd.Options{})
	start, err := b.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := b.Watch(ctx, "/w/", true, start)
	r1, err := b.Create(ctx, "/w/a", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, "/elsewhere", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	r2, err := b.Update(ctx, "/w/a", []byte("2"), r1, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, r3, err := b.Delete(ctx, "/w/a", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Event{
		{Type: storage.EventPut, KV: storage.KeyValue{Key: "/w/a", Value: []byte("1"), CreateRevision: r1, ModRevision: r1}},
		{
			Type: storage.EventPut,
			KV:   storage.KeyValue{Key: "/w/a", Value: []byte("2"), CreateRevision: r1, ModRevision: r2},
			Prev: &storage.KeyValue{Key: "/w/a", Value: []byte("1"), CreateRevision: r1, ModRevision: r1},
		},
		{
			Type: storage.EventDelete,
			KV:   storage.KeyValue{Key: "/w/a", ModRevision: r3},
			Prev: &storage.KeyValue{Key: "/w/a", Value: []byte("2"), CreateRevision: r1, ModRevision: r2},
		},
	}
	if diff := cmp.Diff(want, collect(t, w, len(want))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Resuming from r1 replays the update and the delete.
	if diff := cmp.Diff(want[1:], collect(t, b.Watch(ctx, "/w/a", false, r1), 2)); diff != "" {
		t.Errorf("resumed events (-want +got):\n%s", diff)
	}

	if err := b.Compact(ctx, r3); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-b.Watch(ctx, "/w/", true, r1):
		if !storage.IsExpired(resp.Err) {
			t.Errorf("watch from a compacted revision: got %+v, want expired", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no response from a watch at a compacted revision")
	}
}

// TestRequestWatchProgress: asked, a watch over quiet keys reports the
// revision of a write elsewhere.
func TestRequestWatchProgress(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, etcd.Options{})
	w := b.Watch(ctx, "/quiet/", true, 0)
	rev, err := b.Create(ctx, "/busy/x", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		if err := b.RequestWatchProgress(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case resp := <-w:
			if resp.Err != nil || len(resp.Events) != 0 {
				t.Fatalf("got %+v, want progress", resp)
			}
			if resp.Revision >= rev {
				return
			}
		case <-time.After(100 * time.Millisecond): // etcd answers once the watch is set up
		case <-timeout:
			t.Fatalf("no progress at revision %d after requests", rev)
		}
	}
}

func TestWatchEndsOnCancel(t *testing.T) {
	b := newBackend(t, etcd.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	w := b.Watch(ctx, "/c/", true, 0)
	cancel()
	select {
	case _, ok := <-w:
		if ok {
			t.Error("got a response after cancel, want a closed channel")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch channel not closed after cancel")
	}
}

func TestTTL(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, etcd.Options{})
	if _, err := b.Create(ctx, "/ttl/a", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	// etcd rounds lease TTLs up to its minimum, 1.5 election timeouts.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		kv, _, err := b.Get(ctx, "/ttl/a")
		if err != nil {
			t.Fatal(err)
		}
		if kv == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("key with a 1s TTL still present after 15s")
}

// collect reads n events from w.
func collect(t *testing.T, w <-chan storage.WatchResponse, n int) []storage.Event {
	t.Helper()
	var got []storage.Event
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case resp, ok := <-w:
			if !ok {
				t.Fatalf("watch closed after %d events", len(got))
			}
			if resp.Err != nil {
				t.Fatalf("watch error after %d events: %v", len(got), resp.Err)
			}
			got = append(got, resp.Events...)
		case <-timeout:
			t.Fatalf("got %d events, want %d", len(got), n)
		}
	}
	return got
}
