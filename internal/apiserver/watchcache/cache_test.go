package watchcache

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tugcluster/tug/internal/apiserver/watchcache/sharing"
	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/bolt"
)

type fixture struct {
	cache *Cache
	store *storage.Store
}

// newFixture runs a cache of ConfigMaps under /cm/ over a real bolt store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with share as the cache's Config.Share.
func newFixtureWith(t *testing.T, share sharing.Func) *fixture {
	t.Helper()
	b, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	codec := serializer.NewCodecFactory(scheme.Scheme).LegacyCodec(corev1.SchemeGroupVersion)
	store := storage.NewStore(b, storage.Config{Codec: codec, NewFunc: func() runtime.Object { return &corev1.ConfigMap{} }})
	c := New(Config{
		Storage: store, Backend: b, Prefix: "/cm/",
		NewFunc:       func() runtime.Object { return &corev1.ConfigMap{} },
		NewListFunc:   func() runtime.Object { return &corev1.ConfigMapList{} },
		EventCapacity: 100,
		EventWindow:   time.Nanosecond, // the window is the 100 events alone
		Share:         share,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = b.Close()
	})
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{cache: c, store: store}
}

// waitApplied waits until the cache has applied storage's events up to
// resourceVersion (it applies them on its own goroutine).
func (f *fixture) waitApplied(t *testing.T, resourceVersion string) {
	t.Helper()
	rev, err := strconv.ParseInt(resourceVersion, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	f.cache.mu.Lock()
	err = f.cache.waitFor(t.Context(), rev)
	f.cache.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) create(t *testing.T, key, name string, lbls map[string]string) *corev1.ConfigMap {
	t.Helper()
	out := &corev1.ConfigMap{}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: lbls}}
	if err := f.cache.Create(context.Background(), key, cm, out, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConsistentListSeesLatestWrite(t *testing.T) {
	f := newFixture(t)
	f.create(t, "/cm/ns/a", "a", nil)
	// A write elsewhere moves the global revision past the cache's own
	// keys; a consistent list must still answer (from progress notices).
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns"}}
	if err := f.store.Create(context.Background(), "/other/ns/x", other, nil, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list := &corev1.ConfigMapList{}
	if err := f.cache.GetList(ctx, "/cm/", storage.ListOptions{Recursive: true}, list); err != nil {
		t.Fatalf("consistent list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "a" {
		t.Fatalf("list = %v", list.Items)
	}
}

func TestWatchFromWindowAndInitialState(t *testing.T) {
	f := newFixture(t)
	first := f.create(t, "/cm/ns/a", "a", nil)
	f.create(t, "/cm/ns/b", "b", nil)

	ctx := context.Background()
	fromA, err := f.cache.Watch(ctx, "/cm/", storage.ListOptions{Recursive: true, ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer fromA.Stop()
	if ev := next(t, fromA); ev.Type != watch.Added || name(ev) != "b" {
		t.Fatalf("replay after a: %s %s", ev.Type, name(ev))
	}

	initial, err := f.cache.Watch(ctx, "/cm/", storage.ListOptions{Recursive: true, ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer initial.Stop()
	got := []string{name(next(t, initial)), name(next(t, initial))}
	if got[0] != "a" || got[1] != "b" {
		t.Fatalf("initial state = %v", got)
	}
}

func TestWatchPredicateTransitions(t *testing.T) {
	f := newFixture(t)
	cm := f.create(t, "/cm/ns/a", "a", map[string]string{"on": "yes"})
	sel := labels.SelectorFromSet(labels.Set{"on": "yes"})
	w, err := f.cache.Watch(context.Background(), "/cm/", storage.ListOptions{
		Recursive: true, ResourceVersion: cm.ResourceVersion, Predicate: storage.Predicate{Label: sel},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	update := func(lbls map[string]string) {
		t.Helper()
		err := f.cache.GuaranteedUpdate(context.Background(), "/cm/ns/a", &corev1.ConfigMap{}, false, nil,
			func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
				out := in.(*corev1.ConfigMap).DeepCopy()
				out.Labels = lbls
				return out, nil, nil
			}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	update(map[string]string{"on": "no"})
	if ev := next(t, w); ev.Type != watch.Deleted {
		t.Fatalf("leaving the selection: %s, want DELETED", ev.Type)
	}
	update(map[string]string{"on": "yes"})
	if ev := next(t, w); ev.Type != watch.Added {
		t.Fatalf("entering the selection: %s, want ADDED", ev.Type)
	}
}

func TestSlowWatcherIsCutOff(t *testing.T) {
	f := newFixture(t)
	cm := f.create(t, "/cm/ns/seed", "seed", nil)
	w, err := f.cache.Watch(context.Background(), "/cm/", storage.ListOptions{Recursive: true, ResourceVersion: cm.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// Never read while more events than the queue holds arrive.
	var last *corev1.ConfigMap
	for i := range watcherQueue + 50 {
		last = f.create(t, fmt.Sprintf("/cm/ns/%04d", i), fmt.Sprintf("c%04d", i), nil)
	}
	// The cache applies storage's events on its own goroutine: read only
	// once it has offered them all, else reading makes room as they come.
	f.waitApplied(t, last.ResourceVersion)
	deadline := time.After(20 * time.Second)
	received := 0
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				if received >= watcherQueue+50 {
					t.Fatalf("watcher received all %d events yet was closed", received)
				}
				return // cut off, as it should be
			}
			received++
		case <-deadline:
			t.Fatalf("slow watcher neither cut off nor closed after %d events", received)
		}
	}
}

// TestWatchResumesFromCacheAcrossOtherRevisions: a watch from a revision
// older than the oldest event the cache keeps, but after the last one it
// dropped (the revisions between are other resources' writes), is served
// from memory; one from before a dropped event goes to storage.
func TestWatchResumesFromCacheAcrossOtherRevisions(t *testing.T) {
	f := newFixture(t) // EventCapacity 100: the window is cut back at 200
	ctx := context.Background()
	var last, beforeLastDropped *corev1.ConfigMap
	for i := range 101 {
		beforeLastDropped = last
		last = f.create(t, fmt.Sprintf("/cm/ns/a%03d", i), fmt.Sprintf("a%03d", i), nil)
	}
	lastDropped := last.ResourceVersion
	var gap string
	for i := range 50 {
		other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("x%02d", i), Namespace: "ns"}}
		out := &corev1.ConfigMap{}
		if err := f.store.Create(ctx, "/other/ns/"+other.Name, other, out, 0); err != nil {
			t.Fatal(err)
		}
		if i == 25 {
			gap = out.ResourceVersion
		}
	}
	for i := range 100 {
		last = f.create(t, fmt.Sprintf("/cm/ns/b%03d", i), fmt.Sprintf("b%03d", i), nil)
	}
	f.waitApplied(t, last.ResourceVersion)
	f.cache.mu.Lock()
	oldest := f.cache.log.events[0].rev
	f.cache.mu.Unlock()
	if g, _ := strconv.ParseInt(gap, 10, 64); g >= oldest-1 {
		t.Fatalf("revision %d is not older than the cache's oldest event %d: the window was not cut where expected", g, oldest)
	}
	for _, tc := range []struct {
		from      string
		fromCache bool
		first     string
	}{
		{from: gap, fromCache: true, first: "b000"},
		{from: lastDropped, fromCache: true, first: "b000"},
		{from: beforeLastDropped.ResourceVersion, fromCache: false, first: "a100"},
	} {
		w, err := f.cache.Watch(ctx, "/cm/", storage.ListOptions{Recursive: true, ResourceVersion: tc.from})
		if err != nil {
			t.Fatal(err)
		}
		if _, cached := w.(*cacheWatcher); cached != tc.fromCache {
			t.Errorf("watch from %s: served from the cache %v, want %v", tc.from, cached, tc.fromCache)
		}
		if ev := next(t, w); ev.Type != watch.Added || name(ev) != tc.first {
			t.Errorf("watch from %s: first event %s %s, want ADDED %s", tc.from, ev.Type, name(ev), tc.first)
		}
		w.Stop()
	}
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return watch.Event{}
}

func name(ev watch.Event) string {
	if cm, ok := ev.Object.(*corev1.ConfigMap); ok {
		return cm.Name
	}
	return fmt.Sprintf("%T", ev.Object)
}

// TestLimitOnAnyRevisionListIsIgnored: a list that takes any revision is
// served whole from memory, limit or not, as Kubernetes' watch cache
// serves it (kube-apiserver 1.37 answers limit=1&resourceVersion=0 with
// every item and no continue token); a consistent list with a limit is
// paginated by storage.
func TestLimitOnAnyRevisionListIsIgnored(t *testing.T) {
	f := newFixture(t)
	var last *corev1.ConfigMap
	for _, n := range []string{"a", "b", "c"} {
		last = f.create(t, "/cm/ns/"+n, n, nil)
	}
	ctx := context.Background()
	page := func(opts storage.ListOptions) *corev1.ConfigMapList {
		t.Helper()
		opts.Recursive = true
		opts.Predicate = storage.Everything()
		opts.Predicate.Limit = 1
		list := &corev1.ConfigMapList{}
		if err := f.cache.GetList(ctx, "/cm/", opts, list); err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		return list
	}
	// The minimum revision first: after it, "0" sees the same state.
	for _, opts := range []storage.ListOptions{
		{ResourceVersion: last.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan},
		{ResourceVersion: "0"},
	} {
		if l := page(opts); len(l.Items) != 3 || l.Continue != "" {
			t.Errorf("rv=%q match=%q limit=1: %d items, continue %q; want all 3 and none", opts.ResourceVersion, opts.ResourceVersionMatch, len(l.Items), l.Continue)
		}
	}
	if l := page(storage.ListOptions{}); len(l.Items) != 1 || l.Continue == "" {
		t.Errorf("consistent list, limit=1: %d items, continue %q; want one page and a continue token", len(l.Items), l.Continue)
	}
}

// TestCachedObjectsShareEqualParts: objects written apart come out of the
// cache holding one copy of what they have in common.
func TestCachedObjectsShareEqualParts(t *testing.T) {
	f := newFixtureWith(t, sharing.New())
	lbls := map[string]string{"app": "web"}
	f.create(t, "/cm/ns/a", "a", lbls)
	last := f.create(t, "/cm/ns/b", "b", map[string]string{"app": "web"})
	list := &corev1.ConfigMapList{}
	err := f.cache.GetList(context.Background(), "/cm/", storage.ListOptions{
		Recursive: true, ResourceVersion: last.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
	}, list)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 {
		t.Fatalf("%d items", len(list.Items))
	}
	a, b := list.Items[0].Labels, list.Items[1].Labels
	if !maps.Equal(a, lbls) || !maps.Equal(b, lbls) {
		t.Fatalf("labels %v, %v", a, b)
	}
	if reflect.ValueOf(a).UnsafePointer() != reflect.ValueOf(b).UnsafePointer() {
		t.Error("equal labels of two cached objects are two maps")
	}
}

func TestWaitWrittenSeesOwnWritesWithoutAskingForProgress(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	var asked atomic.Int64
	f.cache.mu.Lock()
	request := f.cache.requestProgress
	f.cache.requestProgress = func() { asked.Add(1); request() }
	f.cache.mu.Unlock()
	for i := range 50 {
		// A write elsewhere moves storage's revision past the cache's
		// keys, as every other resource's writes do.
		other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("x%02d", i), Namespace: "ns"}}
		if err := f.store.Create(ctx, "/other/ns/"+other.Name, other, nil, 0); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("a%02d", i)
		f.create(t, "/cm/ns/"+name, name, nil)
		if err := f.cache.WaitWritten(ctx); err != nil {
			t.Fatal(err)
		}
		list := &corev1.ConfigMapList{}
		if err := f.cache.GetList(ctx, "/cm/", storage.ListOptions{Recursive: true, ResourceVersion: "0"}, list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != i+1 || list.Items[i].Name != name {
			t.Fatalf("after writing %s, the cache lists %d objects, not %d", name, len(list.Items), i+1)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("WaitWritten asked storage for progress %d times, want 0", n)
	}
	// A consistent list, by contrast, must learn of the other writes.
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "last", Namespace: "ns"}}
	if err := f.store.Create(ctx, "/other/ns/last", other, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.cache.GetList(ctx, "/cm/", storage.ListOptions{Recursive: true}, &corev1.ConfigMapList{}); err != nil {
		t.Fatal(err)
	}
	if asked.Load() == 0 {
		t.Error("a consistent list behind storage's revision did not ask for progress: the test no longer shows the difference")
	}
}
