package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tugcluster/tug/internal/storage"
)

func openTest(t testing.TB, dir string, opts Options) *Backend {
	t.Helper()
	opts.Dir = dir
	b, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return b
}

// TestReopenKeepsEverything writes, closes without the background applier
// having run and reopens: every write and the revision survive.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openTest(t, dir, Options{ApplyInterval: time.Hour, CompactInterval: time.Hour})
	var last int64
	for i := range 100 {
		rev, err := b.Create(ctx, fmt.Sprintf("/k/%03d", i), []byte(fmt.Sprint(i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		if rev != last+1 {
			t.Fatalf("revision %d after %d", rev, last)
		}
		last = rev
	}
	if _, _, err := b.Delete(ctx, "/k/050", 0); err != nil {
		t.Fatal(err)
	}
	last++
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openTest(t, dir, Options{})
	defer func() { _ = b.Close() }()
	rev, _ := b.Revision(ctx)
	if rev != last {
		t.Fatalf("revision after reopen = %d, want %d", rev, last)
	}
	n, err := b.Count(ctx, "/k/")
	if err != nil || n != 99 {
		t.Fatalf("count = %d, %v; want 99", n, err)
	}
	created, err := b.Create(ctx, "/k/new", []byte("x"), 0)
	if err != nil || created != last+1 {
		t.Fatalf("create after reopen: rev %d, %v; want %d", created, err, last+1)
	}
}

// TestReplayTornLog simulates a crash: the log is copied before the file is
// brought up to date, and a torn record is appended to its tail.
func TestReplayTornLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openTest(t, dir, Options{ApplyInterval: time.Hour, CompactInterval: time.Hour})
	for i := range 50 {
		if _, err := b.Create(ctx, fmt.Sprintf("/k/%03d", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	// Snapshot the directory as a kill -9 would leave it: the file without
	// the logged writes, the log with them.
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := walSegments(filepath.Join(crashed, "wal"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	seg := filepath.Join(crashed, "wal", segs[0])
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	events, torn := parseSegment(data)
	if torn || len(events) != 50 {
		t.Fatalf("parsed %d events torn=%v", len(events), torn)
	}
	end := walEnd(data)
	copy(data[end:], []byte{0, 0, 0, 40, 1, 2, 3, 4, 9, 9}) // a header whose payload never made it
	if err := os.WriteFile(seg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, crashed, Options{})
	defer func() { _ = r.Close() }()
	n, err := r.Count(ctx, "/k/")
	if err != nil || n != 50 {
		t.Fatalf("count after replay = %d, %v", n, err)
	}
	if rev, _ := r.Revision(ctx); rev != 50 {
		t.Fatalf("revision after replay = %d", rev)
	}
}

func walEnd(data []byte) int {
	off := 0
	for off+8 <= len(data) {
		n := int(data[off])<<24 | int(data[off+1])<<16 | int(data[off+2])<<8 | int(data[off+3])
		if n == 0 {
			return off
		}
		off += 8 + n
	}
	return off
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSegmentsRotateAndRelease fills several small segments and checks
// that applied ones are deleted.
func TestSegmentsRotateAndRelease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openTest(t, dir, Options{WALSegmentSize: 1 << 20, ApplyInterval: time.Millisecond})
	defer func() { _ = b.Close() }()
	value := make([]byte, 16<<10)
	for i := range 200 {
		if _, err := b.Create(ctx, fmt.Sprintf("/big/%03d", i), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Compact(ctx, 200); err != nil { // applies everything first
		t.Fatal(err)
	}
	b.applyPending()
	segs, err := walSegments(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 1 {
		t.Fatalf("%d segments remain after applying everything, want 1: %v", len(segs), segs)
	}
	var got int
	if _, err := b.Range(ctx, "/big/", "", 0, func(storage.KeyValue) bool { got++; return true }); err != nil || got != 200 {
		t.Fatalf("range %d, %v", got, err)
	}
}

// TestWatchProgress checks that a watcher learns of revisions that held
// none of its keys, which the API server's watch cache relies on.
func TestWatchProgress(t *testing.T) {
	ctx := t.Context()
	b := openTest(t, t.TempDir(), Options{})
	defer func() { _ = b.Close() }()
	ch := b.Watch(ctx, "/a/", true, 0)
	rev, err := b.Create(ctx, "/b/x", []byte("v"), 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-ch:
		if len(resp.Events) != 0 || resp.Revision != rev || resp.Err != nil {
			t.Fatalf("got %+v, want a progress notification at %d", resp, rev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no progress notification")
	}
}

// TestWatchProgressSparinglyAndOnRequest: while keys elsewhere change, a
// watch reports progress at most every ProgressInterval, and on request
// once it has reached the newest revision.
func TestWatchProgressSparinglyAndOnRequest(t *testing.T) {
	ctx := t.Context()
	b := openTest(t, t.TempDir(), Options{})
	defer func() { _ = b.Close() }()
	ch := b.Watch(ctx, "/a/", true, 0)
	responses := 0
	drain := func() {
		for {
			select {
			case resp := <-ch:
				if len(resp.Events) != 0 || resp.Err != nil {
					t.Fatalf("got %+v, want progress only", resp)
				}
				responses++
			default:
				return
			}
		}
	}
	start := time.Now()
	var rev int64
	for i := range 200 {
		var err error
		if rev, err = b.Create(ctx, fmt.Sprintf("/b/%d", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		drain()
	}
	elapsed := time.Since(start)
	drain()
	if allowed := 2 + int(elapsed/ProgressInterval); responses > allowed {
		t.Errorf("%d progress responses for 200 writes elsewhere in %v, want at most %d", responses, elapsed, allowed)
	}
	if err := b.RequestWatchProgress(ctx); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case resp := <-ch:
			if resp.Revision == rev {
				return
			}
		case <-timeout:
			t.Fatalf("no progress response at revision %d after a request", rev)
		}
	}
}

// TestExpiredContinue checks that a continue token whose revision was
// compacted fails with Expired and hands out a token that resumes the list
// at the newest revision.
func TestExpiredContinue(t *testing.T) {
	ctx := t.Context()
	b := openTest(t, t.TempDir(), Options{})
	defer func() { _ = b.Close() }()
	codec := serializer.NewCodecFactory(scheme.Scheme).LegacyCodec(corev1.SchemeGroupVersion)
	s := storage.NewStore(b, storage.Config{Codec: codec, NewFunc: func() kruntime.Object { return &corev1.ConfigMap{} }})
	for i := range 5 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i), Namespace: "n"}}
		if err := s.Create(ctx, fmt.Sprintf("/cm/n/c%d", i), cm, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	page := &corev1.ConfigMapList{}
	opts := storage.ListOptions{Recursive: true, Predicate: storage.Predicate{Limit: 2}}
	if err := s.GetList(ctx, "/cm/", opts, page); err != nil || page.Continue == "" {
		t.Fatalf("first page: %v, continue %q", err, page.Continue)
	}
	if _, err := b.Create(ctx, "/other", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	rev, _ := b.Revision(ctx)
	if err := b.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	opts.Predicate.Continue = page.Continue
	err := s.GetList(ctx, "/cm/", opts, &corev1.ConfigMapList{})
	var se *storage.Error
	if !storage.IsExpired(err) || !errors.As(err, &se) || se.Continue == "" {
		t.Fatalf("continue after compaction: %v, want Expired with a new token", err)
	}
	opts.Predicate.Continue, opts.Predicate.Limit = se.Continue, 0
	rest := &corev1.ConfigMapList{}
	if err := s.GetList(ctx, "/cm/", opts, rest); err != nil || len(rest.Items) != 3 {
		t.Fatalf("inconsistent continuation: %d items, %v; want the 3 after the first page", len(rest.Items), err)
	}
}

// TestFailedLogTakesNoMoreWrites checks that writes already handed to the
// writer when the log failed (here: its failure set by hand, as a full disk
// would) are refused with that failure and never logged or published.
func TestFailedLogTakesNoMoreWrites(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir(), Options{})
	defer func() { _ = b.Close() }()
	if _, err := b.Create(ctx, "/a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.failed = errors.New("preallocate wal segment: no space left on device")
	b.mu.Unlock()
	op := &writeOp{kind: opCreate, key: "/b", value: []byte("2")}
	b.commit(ctx, []*writeOp{op})
	if op.err == nil || !strings.Contains(op.err.Error(), "no space left on device") {
		t.Fatalf("handed-over write after the failure: %v, want the failure", op.err)
	}
	if _, err := b.Create(ctx, "/c", []byte("3"), 0); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("new write after the failure: %v, want the failure", err)
	}
	var keys []string
	if _, err := b.Range(ctx, "/", "", 0, func(kv storage.KeyValue) bool { keys = append(keys, kv.Key); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"/a"}) {
		t.Fatalf("stored keys %v, want only /a", keys)
	}
}
