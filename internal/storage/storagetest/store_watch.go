package storagetest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/internal/storage"
)

// objEvent is what the watch cases compare of a watch.Event.
type objEvent struct {
	Type   watch.EventType
	Name   string // namespace/name
	RV     string
	Data   map[string]string
	Labels map[string]string
}

func summarize(t *testing.T, ev watch.Event) objEvent {
	t.Helper()
	cm, ok := ev.Object.(*corev1.ConfigMap)
	if !ok {
		if st, isStatus := ev.Object.(*metav1.Status); isStatus {
			t.Fatalf("watch event %s carries status %d %s: %s", ev.Type, st.Code, st.Reason, st.Message)
		}
		t.Fatalf("watch event %s carries %T, want *v1.ConfigMap", ev.Type, ev.Object)
	}
	return objEvent{Type: ev.Type, Name: cm.Namespace + "/" + cm.Name, RV: cm.ResourceVersion, Data: cm.Data, Labels: cm.Labels}
}

// expect builds the objEvent an event of type typ carrying cm must match.
func expect(typ watch.EventType, cm *corev1.ConfigMap) objEvent {
	return objEvent{Type: typ, Name: cm.Namespace + "/" + cm.Name, RV: cm.ResourceVersion, Data: cm.Data, Labels: cm.Labels}
}

// atRV returns a copy of cm with resourceVersion rev: a deleted object is
// delivered at the revision of its delete.
func atRV(cm *corev1.ConfigMap, rev int64) *corev1.ConfigMap {
	cm = cm.DeepCopy()
	cm.ResourceVersion = rvString(rev)
	return cm
}

// receiveObjects reads n events from w and summarizes them.
func receiveObjects(t *testing.T, w watch.Interface, n int) []objEvent {
	t.Helper()
	var out []objEvent
	timer := waitAfter()
	for len(out) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %+v", len(out), n, out)
			}
			out = append(out, summarize(t, ev))
		case <-timer:
			t.Fatalf("watch delivered %d of %d events in %v: %+v", len(out), n, waitTimeout, out)
		}
	}
	return out
}

func (e *storeEnv) watchCMs(key string, opts storage.ListOptions) watch.Interface {
	e.t.Helper()
	w, err := e.cms.Watch(e.t.Context(), key, opts)
	if err != nil {
		e.t.Fatalf("Watch(%s, rv %q): %v", key, opts.ResourceVersion, err)
	}
	e.t.Cleanup(w.Stop)
	return w
}

func (e *storeEnv) deleteCM(name string) *corev1.ConfigMap {
	e.t.Helper()
	out := &corev1.ConfigMap{}
	if err := e.cms.Delete(e.t.Context(), cmKey("ns", name), out, nil, nil, nil); err != nil {
		e.t.Fatalf("Delete ns/%s: %v", name, err)
	}
	return out
}

func (e *storeEnv) setLabel(name, value string) *corev1.ConfigMap {
	e.t.Helper()
	out := &corev1.ConfigMap{}
	var calls []updateCall
	err := e.cms.GuaranteedUpdate(e.t.Context(), cmKey("ns", name), out, false, nil, updater(&calls, func(cm *corev1.ConfigMap) error {
		cm.Labels = map[string]string{"app": value}
		return nil
	}), nil)
	if err != nil {
		e.t.Fatalf("relabel ns/%s: %v", name, err)
	}
	return out
}

func labeled(name, app string) *corev1.ConfigMap {
	cm := configMap("ns", name, "k", "v")
	cm.Labels = map[string]string{"app": app}
	return cm
}

// testStoreWatchInitial: resourceVersion "" and "0" send the current
// objects as ADDED, then the changes.
func testStoreWatchInitial(t *testing.T, f Factory, c codec) {
	for _, rv := range []string{"", "0"} {
		t.Run(fmt.Sprintf("rv %q", rv), func(t *testing.T) {
			e := newStoreEnv(t, f, c)
			a := e.createCM(configMap("ns", "a", "k", "1"))
			b := e.createCM(configMap("ns", "b", "k", "1"))
			e.createPod(pod("ns", "p", nil)) // another resource
			w := e.watchCMs("/registry/configmaps", storage.ListOptions{ResourceVersion: rv, Recursive: true})

			initial := receiveObjects(t, w, 2)
			slices.SortFunc(initial, func(x, y objEvent) int { return strings.Compare(x.Name, y.Name) })
			if diff := cmp.Diff([]objEvent{expect(watch.Added, a), expect(watch.Added, b)}, initial, objOpts); diff != "" {
				t.Fatalf("initial events (-want +got):\n%s", diff)
			}
			a2 := e.setData("a", "k", "2")
			bGone := e.deleteCM("b")
			cNew := e.createCM(configMap("ns", "c"))
			want := []objEvent{expect(watch.Modified, a2), expect(watch.Deleted, bGone), expect(watch.Added, cNew)}
			if diff := cmp.Diff(want, receiveObjects(t, w, 3), objOpts); diff != "" {
				t.Fatalf("events after the initial state (-want +got):\n%s", diff)
			}
			if bGone.ResourceVersion != rvString(e.rev()-1) {
				t.Errorf("deleted object has resourceVersion %s, want the delete's revision %d", bGone.ResourceVersion, e.rev()-1)
			}
		})
	}
	t.Run("with predicate", func(t *testing.T) {
		e := newStoreEnv(t, f, c)
		a := e.createCM(labeled("a", "web"))
		e.createCM(labeled("b", "db"))
		w := e.watchCMs("/registry/configmaps", storage.ListOptions{
			ResourceVersion: "0",
			Recursive:       true,
			Predicate:       storage.Predicate{Label: mustLabels(t, "app=web")},
		})
		if diff := cmp.Diff([]objEvent{expect(watch.Added, a)}, receiveObjects(t, w, 1), objOpts); diff != "" {
			t.Fatalf("initial events (-want +got):\n%s", diff)
		}
		sentinel := e.createCM(labeled("c", "web"))
		if diff := cmp.Diff([]objEvent{expect(watch.Added, sentinel)}, receiveObjects(t, w, 1), objOpts); diff != "" {
			t.Fatalf("next event: only matching objects are sent (-want +got):\n%s", diff)
		}
	})
}

// testStoreWatchFromRV: a resourceVersion replays exactly the changes
// after it, typed ADDED, MODIFIED and DELETED.
func testStoreWatchFromRV(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	a1 := e.createCM(configMap("ns", "a", "k", "1"))
	a2 := e.setData("a", "k", "2")
	b := e.createCM(configMap("ns", "b"))
	e.createPod(pod("ns", "p", nil))
	aGone := e.deleteCM("a")
	history := []objEvent{
		expect(watch.Modified, a2), expect(watch.Added, b), expect(watch.Deleted, aGone),
	}
	watches := map[string]watch.Interface{}
	for _, from := range []*corev1.ConfigMap{a1, a2, b, aGone} {
		watches[from.ResourceVersion] = e.watchCMs("/registry/configmaps", storage.ListOptions{ResourceVersion: from.ResourceVersion, Recursive: true})
	}
	sentinel := e.createCM(configMap("ns", "sentinel"))
	cases := []struct {
		from *corev1.ConfigMap
		want []objEvent
	}{
		{a1, history},
		{a2, history[1:]},
		{b, history[2:]},
		{aGone, nil},
	}
	for _, tc := range cases {
		t.Run("from "+tc.from.ResourceVersion, func(t *testing.T) {
			want := append(slices.Clone(tc.want), expect(watch.Added, sentinel))
			got := receiveObjects(t, watches[tc.from.ResourceVersion], len(want))
			if diff := cmp.Diff(want, got, objOpts); diff != "" {
				t.Errorf("watch from %s (-want +got):\n%s", tc.from.ResourceVersion, diff)
			}
		})
	}
}

// testStoreWatchPredicate: an object that stops matching arrives as
// DELETED, one that starts matching as ADDED, others not at all.
func testStoreWatchPredicate(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	e.createPod(pod("ns", "p", nil)) // so the watch starts at a revision above 0
	w := e.watchCMs("/registry/configmaps", storage.ListOptions{
		ResourceVersion: rvString(e.rev()),
		Recursive:       true,
		Predicate:       storage.Predicate{Label: mustLabels(t, "app=web")},
	})
	x := e.createCM(labeled("x", "web"))
	e.createCM(labeled("y", "db"))
	xOut := e.setLabel("x", "db")
	yIn := e.setLabel("y", "web")
	yMod := e.setData("y", "k", "changed")
	e.setData("x", "k", "unseen")
	e.deleteCM("x")
	yGone := e.deleteCM("y")
	sentinel := e.createCM(labeled("z", "web"))

	// x leaving is sent as its last matching state at the revision it left.
	xLeft := atRV(x, mustRV(t, xOut.ResourceVersion))
	want := []objEvent{
		expect(watch.Added, x),
		expect(watch.Deleted, xLeft),
		expect(watch.Added, yIn),
		expect(watch.Modified, yMod),
		expect(watch.Deleted, yGone),
		expect(watch.Added, sentinel),
	}
	if diff := cmp.Diff(want, receiveObjects(t, w, len(want)), objOpts); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// testStoreWatchOneKey: a watch without Recursive sees its key only.
func testStoreWatchOneKey(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	e.createPod(pod("ns", "p", nil)) // so the watch starts at a revision above 0
	w := e.watchCMs(cmKey("ns", "a"), storage.ListOptions{ResourceVersion: rvString(e.rev())})
	a := e.createCM(configMap("ns", "a"))
	e.createCM(configMap("ns", "ab"))
	e.createCM(configMap("ns", "a-b"))
	a2 := e.setData("a", "k", "2")
	e.setData("ab", "k", "2")
	aGone := e.deleteCM("a")
	again := e.createCM(configMap("ns", "a", "k", "3"))
	want := []objEvent{
		expect(watch.Added, a), expect(watch.Modified, a2), expect(watch.Deleted, aGone), expect(watch.Added, again),
	}
	if diff := cmp.Diff(want, receiveObjects(t, w, len(want)), objOpts); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// testStoreWatchOwnObjects: the objects a watch delivers are its own: a
// writer changing the object its write returned changes no event.
func testStoreWatchOwnObjects(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	e.createPod(pod("ns", "p", nil)) // so the watch starts at a revision above 0
	w := e.watchCMs(cmKey("ns", "a"), storage.ListOptions{ResourceVersion: rvString(e.rev())})
	a := e.createCM(configMap("ns", "a", "k", "1"))
	a2 := e.setData("a", "k", "2")
	want := []objEvent{expect(watch.Added, a.DeepCopy()), expect(watch.Modified, a2.DeepCopy())}
	a.Data["k"], a2.Data["k"] = "changed", "changed"
	a.ResourceVersion, a2.ResourceVersion = "1", "1"
	if diff := cmp.Diff(want, receiveObjects(t, w, len(want)), objOpts); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// testStoreWatchTakesWritten: a watch with TakeWritten delivers the object
// a write decoded for its caller instead of decoding the written bytes
// again; any other watch decodes for itself and leaves that object to the
// watch that takes it. Counted as decodes of the store's codec: the write's
// own, and one per watch that does not take.
func testStoreWatchTakesWritten(t *testing.T, f Factory, c codec) {
	for _, takes := range []bool{false, true} {
		t.Run(fmt.Sprintf("TakeWritten=%v", takes), func(t *testing.T) {
			decodes := &countingCodec{Codec: c.codec}
			b := open(t, f)
			cms := storage.NewStore(b, storage.Config{Codec: decodes, NewFunc: func() runtime.Object { return &corev1.ConfigMap{} }})
			// A first write, so that the watch starts from a revision above 0
			// (from 0 it would list, and decode, what is stored).
			if err := cms.Create(t.Context(), cmKey("ns", "first"), configMap("ns", "first"), &corev1.ConfigMap{}, 0); err != nil {
				t.Fatalf("Create: %v", err)
			}
			opts := storage.ListOptions{ResourceVersion: rvString(revision(t, b)), Recursive: true, TakeWritten: takes}
			w, err := cms.Watch(t.Context(), "/registry/configmaps", opts)
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			defer w.Stop()
			before := decodes.n.Load()
			created := &corev1.ConfigMap{}
			if err := cms.Create(t.Context(), cmKey("ns", "a"), configMap("ns", "a", "k", "1"), created, 0); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if diff := cmp.Diff([]objEvent{expect(watch.Added, created)}, receiveObjects(t, w, 1), objOpts); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			want := int64(2) // the write's, and the watch's own
			if takes {
				want = 1
			}
			if got := decodes.n.Load() - before; got != want {
				t.Errorf("%d decodes for a write and its watch event, want %d", got, want)
			}
		})
	}
}

// countingCodec counts the objects it decodes.
type countingCodec struct {
	runtime.Codec
	n atomic.Int64
}

func (c *countingCodec) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	c.n.Add(1)
	return c.Codec.Decode(data, gvk, into)
}

// testStoreWatchCompacted: a watch from a compacted resourceVersion gets
// one watch.Error event with a 410 Expired Status, then the channel closes.
func testStoreWatchCompacted(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	comp := compactor(t, e.backend)
	first := e.createCM(configMap("ns", "a", "k", "1"))
	e.setData("a", "k", "2")
	e.setData("a", "k", "3")
	if err := comp.Compact(t.Context(), e.rev()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	w, err := e.cms.Watch(t.Context(), "/registry/configmaps", storage.ListOptions{ResourceVersion: first.ResourceVersion, Recursive: true})
	if err != nil {
		t.Fatalf("Watch from a compacted resourceVersion returned %v; want a watch whose first event is a watch.Error", err)
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch from a compacted resourceVersion closed without an event")
		}
		if ev.Type != watch.Error {
			t.Fatalf("first event is %s %T, want %s", ev.Type, ev.Object, watch.Error)
		}
		st, isStatus := ev.Object.(*metav1.Status)
		if !isStatus {
			t.Fatalf("error event carries %T, want *metav1.Status", ev.Object)
		}
		if st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired || st.Status != metav1.StatusFailure {
			t.Errorf("error status: code %d reason %q status %q, want %d %q %q (message %q)",
				st.Code, st.Reason, st.Status, http.StatusGone, metav1.StatusReasonExpired, metav1.StatusFailure, st.Message)
		}
	case <-waitAfter():
		t.Fatalf("no event in %v from a watch at a compacted resourceVersion", waitTimeout)
	}
	waitClosed(t, w.ResultChan())
}

// testStoreWatchStop: Stop and context cancellation close ResultChan,
// also with events pending.
func testStoreWatchStop(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	e.createCM(configMap("ns", "a"))
	for _, rv := range []string{"0", rvString(e.rev())} {
		t.Run("stop rv "+rv, func(t *testing.T) {
			w, err := e.cms.Watch(t.Context(), "/registry/configmaps", storage.ListOptions{ResourceVersion: rv, Recursive: true})
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			e.setData("a", "k", rv+"x")
			w.Stop()
			waitClosed(t, w.ResultChan())
		})
		t.Run("cancel rv "+rv, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			w, err := e.cms.Watch(ctx, "/registry/configmaps", storage.ListOptions{ResourceVersion: rv, Recursive: true})
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			defer w.Stop()
			e.setData("a", "k", rv+"y")
			cancel()
			waitClosed(t, w.ResultChan())
		})
	}
}
