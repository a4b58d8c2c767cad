package endpoints

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
)

// flushRecorder records what was written by the time of each flush.
type flushRecorder struct {
	*httptest.ResponseRecorder
	flushedAt []int
}

func (f *flushRecorder) Flush() { f.flushedAt = append(f.flushedAt, f.Body.Len()) }

func jsonWatchStream(t *testing.T, w http.ResponseWriter) *watchStream {
	t.Helper()
	codecs := serializer.NewCodecFactory(scheme.Scheme)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	return &watchStream{h: &Handler{codecs: codecs}, w: w, out: output{info: info}, gv: corev1.SchemeGroupVersion}
}

func podEvent(i int) watch.Event {
	return watch.Event{Type: watch.Added, Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i), ResourceVersion: fmt.Sprint(i)}}}
}

func TestWatchSendReadyWritesWaitingEventsBeforeOneFlush(t *testing.T) {
	rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
	s := jsonWatchStream(t, rec)
	events := make(chan watch.Event, 2*maxUnflushedEvents)
	for i := range 2 * maxUnflushedEvents {
		events <- podEvent(i)
	}
	// As the watch loop does: the event received, then those waiting.
	if !s.send(<-events) || !s.sendReady(events) {
		t.Fatal("send failed")
	}
	if len(rec.flushedAt) != 0 {
		t.Fatalf("flushed %d times while writing a burst, want none before the loop's flush", len(rec.flushedAt))
	}
	if got := strings.Count(rec.Body.String(), `"type":"ADDED"`); got != maxUnflushedEvents {
		t.Fatalf("%d events written in one batch, want maxUnflushedEvents (%d)", got, maxUnflushedEvents)
	}
	if len(events) != maxUnflushedEvents {
		t.Fatalf("%d events left waiting, want %d for the next batch", len(events), maxUnflushedEvents)
	}
	if s.lastRV != fmt.Sprint(maxUnflushedEvents-1) {
		t.Fatalf("lastRV %s after the batch, want %d", s.lastRV, maxUnflushedEvents-1)
	}
}

func TestWatchSendReadyFlushesWhatItWroteWhenTheWatchEnds(t *testing.T) {
	rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
	s := jsonWatchStream(t, rec)
	events := make(chan watch.Event, 3)
	events <- podEvent(1)
	events <- podEvent(2)
	close(events)
	if s.sendReady(events) {
		t.Fatal("sendReady reported the ended watch as going on")
	}
	if len(rec.flushedAt) != 1 || rec.flushedAt[0] != rec.Body.Len() || !bytes.Contains(rec.Body.Bytes(), []byte(`"p2"`)) {
		t.Fatalf("flushes at %v of %d bytes (%q), want one flush after both events", rec.flushedAt, rec.Body.Len(), rec.Body.String())
	}
}
