package filters

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// blocking returns a handler that signals entered and then waits for
// release, and a MaxInFlight of one slot per kind around it.
func blocking(queueWait time.Duration, refused *error) (h http.Handler, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 10), make(chan struct{})
	inner := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	})
	var mu sync.Mutex
	h = MaxInFlight(inner, 1, 1, queueWait, func(r *http.Request) bool { return r.URL.Query().Get("watch") == "true" },
		func(w http.ResponseWriter, _ *http.Request, err error) {
			mu.Lock()
			*refused = err
			mu.Unlock()
			w.WriteHeader(http.StatusTooManyRequests)
		})
	return h, entered, release
}

func serve(h http.Handler, method, url string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, url, nil))
	return rec
}

func TestMaxInFlightRefusesAfterTheQueueWait(t *testing.T) {
	var refused error
	h, entered, release := blocking(20*time.Millisecond, &refused)
	var done sync.WaitGroup
	done.Go(func() { serve(h, "GET", "/api/v1/pods") })
	<-entered

	// The read slot is taken: a second read waits its time, then is refused.
	rec := serve(h, "GET", "/api/v1/pods")
	if rec.Code != http.StatusTooManyRequests || !apierrors.IsTooManyRequests(refused) || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("second read: code %d, err %v, Retry-After %q", rec.Code, refused, rec.Header().Get("Retry-After"))
	}
	// Writes have their own slot, and watches are not counted.
	done.Go(func() { serve(h, "POST", "/api/v1/pods") })
	done.Go(func() { serve(h, "GET", "/api/v1/pods?watch=true") })
	<-entered
	<-entered
	close(release)
	done.Wait()
}

func TestLimiterQueuedRequestGetsTheFreedSlot(t *testing.T) {
	l := newLimiter(1)
	ctx := context.Background()
	if !l.acquire(ctx, 0) {
		t.Fatal("first acquire failed")
	}
	got := make(chan bool, 1)
	go func() { got <- l.acquire(ctx, time.Minute) }()
	for len(l.waiters) == 0 {
		runtime.Gosched() // until the second caller is queued
	}
	l.release()
	if !<-got {
		t.Error("the queued caller did not get the freed slot")
	}
	// One waiter at most: with the slot and the queue full, refuse at once.
	go func() { got <- l.acquire(ctx, time.Minute) }()
	for len(l.waiters) == 0 {
		runtime.Gosched()
	}
	if l.acquire(ctx, time.Minute) {
		t.Error("a caller beyond the queue bound got a slot")
	}
	l.release()
	if !<-got {
		t.Error("the queued caller did not get the slot")
	}
}
