package loopback

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/apiserver/filters"
)

func client(h http.Handler) *http.Client {
	return &http.Client{Transport: Transport(h, filters.User{Name: "tester", Groups: []string{"testers"}})}
}

// TestBufferedResponse checks status, headers, body, the request as the
// handler sees it, and the authenticated user.
func TestBufferedResponse(t *testing.T) {
	authn := filters.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := filters.UserFrom(r.Context())
		data, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+string(data)+" "+u.Name+" "+strings.Join(u.Groups, ","))
		w.Header().Set("X-Late", "ignored") // after the header was written
	}), func(string) bool { return false }, nil, func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusUnauthorized)
	})
	resp, err := client(authn).Post("https://tug.invalid/api/v1/namespaces?limit=5", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /api/v1/namespaces?limit=5 hello tester testers,system:authenticated"
	if resp.StatusCode != http.StatusCreated || string(data) != want || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %q %v, want 201 %q", resp.StatusCode, data, resp.Header, want)
	}
	if resp.Header.Get("X-Late") != "" || resp.ContentLength != int64(len(want)) {
		t.Fatalf("header after WriteHeader leaked or wrong length: %v %d", resp.Header, resp.ContentLength)
	}
}

// TestNetworkRequestsCannotClaimInProcessUser checks Authenticate refuses a
// request that did not come through the transport.
func TestNetworkRequestsCannotClaimInProcessUser(t *testing.T) {
	authn := filters.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler reached without credentials")
	}), func(string) bool { return false }, nil, func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusUnauthorized)
	})
	rec := &responseWriter{header: http.Header{}, ready: make(chan struct{})}
	req, _ := http.NewRequest(http.MethodGet, "https://tug.invalid/api", nil)
	authn.ServeHTTP(rec, req)
	rec.finish()
	if rec.code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.code)
	}
}

// TestStreamingResponse reads a flushed stream line by line, then closes
// the body, which must end the handler.
func TestStreamingResponse(t *testing.T) {
	ended := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(ended)
		for i := 0; ; i++ {
			if _, err := io.WriteString(w, "event\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	resp, err := client(h).Get("https://tug.invalid/watch")
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != -1 {
		t.Errorf("streamed response has length %d", resp.ContentLength)
	}
	lines := bufio.NewScanner(resp.Body)
	for range 3 {
		if !lines.Scan() || lines.Text() != "event" {
			t.Fatalf("stream: %q %v", lines.Text(), lines.Err())
		}
	}
	_ = resp.Body.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("handler still running after the body was closed")
	}
}

// TestCancelledRequest returns the context's error while the handler
// still runs, and cancels the handler's context.
func TestCancelledRequest(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(stopped)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://tug.invalid/slow", nil)
	if _, err := client(h).Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("handler's context not canceled")
	}
}

// TestPanicAndUpgrade: an escaped panic is a 500, an upgrade an error.
func TestPanicAndUpgrade(t *testing.T) {
	c := client(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	resp, err := c.Get("https://tug.invalid/panic")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d after a panic, want 500", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://tug.invalid/exec", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	if _, err := c.Do(req); !errors.Is(err, errUpgrade) {
		t.Fatalf("upgrade: err %v", err)
	}
}
