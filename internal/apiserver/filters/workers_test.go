package filters

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// goroutineID is the number runtime.Stack prints for the calling goroutine.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return string(bytes.Fields(buf)[1])
}

// recordingGoroutines returns a handler that writes the id of the goroutine
// serving each request into the response.
func recordingGoroutines() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(goroutineID()))
	})
}

func isWatch(r *http.Request) bool { return r.URL.Query().Get("watch") == "true" }

func TestOnWorkersReusesOneGoroutineForSuccessiveRequests(t *testing.T) {
	h := OnWorkers(recordingGoroutines(), 4, isWatch)
	first := serve(h, http.MethodGet, "/api/v1/pods").Body.String()
	if first == goroutineID() {
		t.Fatalf("request served on the caller's goroutine %s, want a worker", first)
	}
	for range 5 {
		if got := serve(h, http.MethodGet, "/api/v1/pods").Body.String(); got != first {
			t.Fatalf("request served on goroutine %s, want the idle worker %s", got, first)
		}
	}
}

func TestOnWorkersServesLongRunningRequestsInPlace(t *testing.T) {
	h := OnWorkers(recordingGoroutines(), 4, isWatch)
	if got, want := serve(h, http.MethodGet, "/api/v1/pods?watch=true").Body.String(), goroutineID(); got != want {
		t.Fatalf("watch served on goroutine %s, want the caller's %s", got, want)
	}
}

func TestOnWorkersServesInPlaceWhenEveryWorkerIsBusy(t *testing.T) {
	entered, release := make(chan string), make(chan struct{})
	h := OnWorkers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- goroutineID()
			<-release
		}
		_, _ = w.Write([]byte(goroutineID()))
	}), 1, isWatch)
	var wg sync.WaitGroup
	wg.Go(func() { serve(h, http.MethodGet, "/block") })
	worker := <-entered
	got := serve(h, http.MethodGet, "/other").Body.String()
	close(release)
	wg.Wait()
	if got == worker || got != goroutineID() {
		t.Fatalf("with the only worker (%s) busy, request served on %s, want the caller's %s", worker, got, goroutineID())
	}
}

func TestOnWorkersRaisesAHandlerPanicOnTheCallersGoroutine(t *testing.T) {
	h := OnWorkers(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}), 2, isWatch)
	for range 2 { // the worker that panicked must still serve the next request
		func() {
			defer func() {
				if p, _ := recover().(error); !errors.Is(p, http.ErrAbortHandler) {
					t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
				}
			}()
			serve(h, http.MethodGet, "/api/v1/pods")
			t.Fatal("the handler's panic did not reach the caller")
		}()
	}
	// Through a real server: net/http aborts the response instead of crashing.
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err := http.Get(srv.URL + "/api/v1/pods")
	if err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("GET through a handler that aborts: err %v, want the connection closed (EOF)", err)
	}
}
