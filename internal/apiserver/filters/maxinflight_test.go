package filters

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	slow := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		started.Done()
		<-release
	})
	var got error
	h := MaxInFlight(slow, 1, 1, func(r *http.Request) bool { return r.URL.Query().Get("watch") == "true" },
		func(w http.ResponseWriter, _ *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTooManyRequests)
		})
	started.Add(1)
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/pods", nil))
	}()
	started.Wait()

	// The read slot is taken: a second read is refused, a write is not.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/pods", nil))
	if rec.Code != http.StatusTooManyRequests || !apierrors.IsTooManyRequests(got) || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("second read: code %d, err %v, Retry-After %q", rec.Code, got, rec.Header().Get("Retry-After"))
	}
	started.Add(2)
	done.Add(2)
	go func() {
		defer done.Done()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/pods", nil))
	}()
	// Watches are not counted.
	go func() {
		defer done.Done()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/pods?watch=true", nil))
	}()
	started.Wait()
	close(release)
	done.Wait()
}
