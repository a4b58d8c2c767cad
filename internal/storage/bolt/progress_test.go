package bolt_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/bolt"
)

// TestProgressIsReportedSparinglyAndOnRequest: a watch with ProgressNotify
// over keys nobody writes sees the backend move on with every write
// elsewhere; it reports that at most every ProgressInterval, and at once
// when asked, up to the newest revision.
func TestProgressIsReportedSparinglyAndOnRequest(t *testing.T) {
	b := factory(t)
	t.Cleanup(func() { _ = b.Close() })
	codec := serializer.NewCodecFactory(scheme.Scheme).LegacyCodec(corev1.SchemeGroupVersion)
	store := storage.NewStore(b, storage.Config{Codec: codec, NewFunc: func() runtime.Object { return &corev1.ConfigMap{} }})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := store.Watch(ctx, "/quiet/", storage.ListOptions{Recursive: true, ProgressNotify: true, ResourceVersion: "1",
		Predicate: storage.Everything()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	bookmarks := 0
	drain := func() {
		for {
			select {
			case ev := <-w.ResultChan():
				if ev.Type != watch.Bookmark {
					t.Fatalf("unexpected %s event", ev.Type)
				}
				bookmarks++
			default:
				return
			}
		}
	}
	const writes = 200
	start := time.Now()
	var last string
	for i := range writes {
		out := &corev1.ConfigMap{}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm" + strconv.Itoa(i)}}
		if err := store.Create(ctx, "/busy/ns/"+cm.Name, cm, out, 0); err != nil {
			t.Fatal(err)
		}
		last = out.ResourceVersion
		drain()
	}
	elapsed := time.Since(start)
	drain()
	if allowed := 2 + int(elapsed/bolt.ProgressInterval); bookmarks > allowed {
		t.Errorf("%d bookmarks for %d writes elsewhere in %v, want at most %d", bookmarks, writes, elapsed, allowed)
	}
	lastRev, _ := strconv.ParseInt(last, 10, 64)
	w.(storage.ProgressRequester).RequestProgress()
	for {
		select {
		case ev := <-w.ResultChan():
			rv, err := strconv.ParseInt(ev.Object.(*corev1.ConfigMap).ResourceVersion, 10, 64)
			if ev.Type != watch.Bookmark || err != nil {
				t.Fatalf("unexpected %s event (resourceVersion: %v)", ev.Type, err)
			}
			if rv >= lastRev {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no bookmark at the last write's revision %d after a progress request", lastRev)
		}
	}
}
