package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	testingclock "k8s.io/utils/clock/testing"
)

// newTestMetrics returns Metrics whose request durations come from clk.
func newTestMetrics() (*Metrics, *testingclock.FakeClock) {
	clk := testingclock.NewFakeClock(time.Unix(1_700_000_000, 0))
	m := New()
	m.clock = clk
	return m, clk
}

// requestSeries names the series one request adds to apiserver_request_total
// (with code) or to apiserver_request_duration_seconds (code "").
func requestSeries(name string, l RequestLabels, verb, dryRun, code string) string {
	labels := map[string]string{
		"verb": verb, "dry_run": dryRun, "group": l.Group, "version": l.Version, "resource": l.Resource,
		"subresource": l.Subresource, "scope": l.Scope, "component": "apiserver",
	}
	if code != "" {
		labels["code"] = code
	}
	return series(name, labels)
}

func longRunningSeries(l RequestLabels, verb string) string {
	return series("apiserver_longrunning_requests", map[string]string{
		"verb": verb, "group": l.Group, "version": l.Version, "resource": l.Resource,
		"subresource": l.Subresource, "scope": l.Scope, "component": "apiserver",
	})
}

func TestInstrumentHTTP(t *testing.T) {
	pod := RequestLabels{Verb: "get", Version: "v1", Resource: "pods", Scope: "resource"}
	with := func(l RequestLabels, edit func(*RequestLabels)) RequestLabels { edit(&l); return l }
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	cases := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		labels  RequestLabels // what the request parser returns
		handler http.HandlerFunc
		took    time.Duration
		// wantVerb, wantDryRun and wantCode are the label values recorded.
		wantVerb, wantDryRun string
		wantCode             int
	}{
		{name: "get", method: "GET", path: "/api/v1/namespaces/default/pods/p", labels: pod,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") },
			took:    10 * time.Millisecond, wantVerb: "GET", wantCode: 200},
		{name: "get missing", method: "GET", path: "/api/v1/namespaces/default/pods/missing", labels: pod,
			handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "not found", http.StatusNotFound) },
			took:    3 * time.Millisecond, wantVerb: "GET", wantCode: 404},
		{name: "head", method: "HEAD", path: "/api/v1/namespaces/default/pods/p", labels: pod,
			took: time.Millisecond, wantVerb: "GET", wantCode: 200},
		{name: "list namespace", method: "GET", path: "/api/v1/namespaces/default/pods",
			labels: with(pod, func(l *RequestLabels) { l.Verb, l.Scope = "list", "namespace" }),
			took:   250 * time.Millisecond, wantVerb: "LIST", wantCode: 200},
		{name: "list all namespaces", method: "GET", path: "/api/v1/pods",
			labels: with(pod, func(l *RequestLabels) { l.Verb, l.Scope = "list", "cluster" }),
			took:   2 * time.Second, wantVerb: "LIST", wantCode: 200},
		{name: "create", method: "POST", path: "/apis/apps/v1/namespaces/default/deployments",
			labels:  RequestLabels{Verb: "create", Group: "apps", Version: "v1", Resource: "deployments", Scope: "resource"},
			handler: status(http.StatusCreated), took: 20 * time.Millisecond, wantVerb: "POST", wantCode: 201},
		{name: "create invalid dry run", method: "POST", path: "/api/v1/namespaces?dryRun=Sometimes",
			labels:  RequestLabels{Verb: "create", Version: "v1", Resource: "namespaces", Scope: "resource"},
			handler: status(http.StatusBadRequest), took: time.Millisecond, wantVerb: "POST", wantDryRun: "invalid", wantCode: 400},
		{name: "update", method: "PUT", path: "/api/v1/namespaces/default/pods/p",
			labels: with(pod, func(l *RequestLabels) { l.Verb = "update" }),
			took:   5 * time.Millisecond, wantVerb: "PUT", wantCode: 200},
		{name: "update status conflict", method: "PUT", path: "/api/v1/namespaces/default/pods/p/status",
			labels:  with(pod, func(l *RequestLabels) { l.Verb, l.Subresource = "update", "status" }),
			handler: status(http.StatusConflict), took: 5 * time.Millisecond, wantVerb: "PUT", wantCode: 409},
		{name: "merge patch", method: "PATCH", path: "/api/v1/namespaces/default/pods/p",
			header: http.Header{"Content-Type": {"application/merge-patch+json"}},
			labels: with(pod, func(l *RequestLabels) { l.Verb = "patch" }),
			took:   5 * time.Millisecond, wantVerb: "PATCH", wantCode: 200},
		{name: "server-side apply dry run", method: "PATCH", path: "/api/v1/namespaces/default/pods/p?dryRun=All&fieldManager=kubectl",
			header: http.Header{"Content-Type": {"application/apply-patch+yaml"}},
			labels: with(pod, func(l *RequestLabels) { l.Verb = "patch" }),
			took:   5 * time.Millisecond, wantVerb: "APPLY", wantDryRun: "All", wantCode: 200},
		{name: "delete", method: "DELETE", path: "/api/v1/namespaces/default/pods/p",
			labels: with(pod, func(l *RequestLabels) { l.Verb = "delete" }),
			took:   5 * time.Millisecond, wantVerb: "DELETE", wantCode: 200},
		{name: "deletecollection", method: "DELETE", path: "/api/v1/namespaces/default/pods",
			labels: with(pod, func(l *RequestLabels) { l.Verb, l.Scope = "deletecollection", "namespace" }),
			took:   50 * time.Millisecond, wantVerb: "DELETE", wantCode: 200},
		{name: "log subresource", method: "GET", path: "/api/v1/namespaces/default/pods/p/log",
			labels:  with(pod, func(l *RequestLabels) { l.Subresource = "log" }),
			handler: status(http.StatusServiceUnavailable), took: time.Millisecond, wantVerb: "CONNECT", wantCode: 503},
		{name: "non-resource", method: "GET", path: "/healthz",
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") },
			took:    time.Millisecond, wantVerb: "GET", wantCode: 200},
		{name: "unknown method", method: "OPTIONS", path: "/healthz",
			handler: status(http.StatusMethodNotAllowed), took: time.Millisecond, wantVerb: "other", wantCode: 405},
		{name: "informational header first", method: "POST", path: "/api/v1/namespaces/default/pods",
			labels: RequestLabels{Verb: "create", Version: "v1", Resource: "pods", Scope: "resource"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusCreated)
			},
			took: time.Millisecond, wantVerb: "POST", wantCode: 201},
	}

	m, clk := newTestMetrics()
	server := httptest.NewServer(m.InstrumentHTTP(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tc := cases[caseIndex(r)]
			clk.Step(tc.took)
			if tc.handler != nil {
				tc.handler(w, r)
			}
		}),
		func(r *http.Request) RequestLabels { return cases[caseIndex(r)].labels },
	))
	defer server.Close()

	want := map[string]float64{}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, server.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			req.Header.Set("X-Case", strconv.Itoa(i))
			resp, err := server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantCode)
			}
		})
		want[requestSeries("apiserver_request_total", tc.labels, tc.wantVerb, tc.wantDryRun, strconv.Itoa(tc.wantCode))]++
		want[requestSeries("apiserver_request_duration_seconds_count", tc.labels, tc.wantVerb, tc.wantDryRun, "")]++
		want[requestSeries("apiserver_request_duration_seconds_sum", tc.labels, tc.wantVerb, tc.wantDryRun, "")] += tc.took.Seconds()
	}
	// No request was long-running: apiserver_longrunning_requests has no series.
	if diff := cmp.Diff(want, scrape(t, m, "apiserver_"), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("/metrics apiserver_ series (-want +got):\n%s", diff)
	}
}

func caseIndex(r *http.Request) int {
	i, _ := strconv.Atoi(r.Header.Get("X-Case"))
	return i
}

// TestInstrumentHTTPWatch streams a watch through the filter: the client
// must see each flushed event while the handler still runs, the watch is
// counted as long-running meanwhile, and its whole duration is recorded.
func TestInstrumentHTTPWatch(t *testing.T) {
	labels := RequestLabels{Verb: "watch", Version: "v1", Resource: "pods", Scope: "cluster", LongRunning: true}
	m, clk := newTestMetrics()
	release := make(chan struct{})
	handlerErr := make(chan error, 1)
	server := httptest.NewServer(m.InstrumentHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Deadlines reach the server's writer through Unwrap.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
			handlerErr <- fmt.Errorf("SetWriteDeadline through the filter: %w", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "event 1\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		clk.Step(30 * time.Second)
		_, _ = io.WriteString(w, "event 2\n")
		handlerErr <- nil
	}), func(*http.Request) RequestLabels { return labels }))
	defer server.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL+"/api/v1/pods?watch=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatalf("watch: %v (a flush that does not reach the client leaves it waiting)", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body := bufio.NewReader(resp.Body)
	if line, err := body.ReadString('\n'); err != nil || line != "event 1\n" {
		t.Fatalf("first event: %q, %v", line, err)
	}
	open := scrape(t, m, "apiserver_longrunning_requests")
	if diff := cmp.Diff(map[string]float64{longRunningSeries(labels, "WATCH"): 1}, open); diff != "" {
		t.Errorf("open watch (-want +got):\n%s", diff)
	}
	close(release)
	rest, err := io.ReadAll(body)
	if err != nil || string(rest) != "event 2\n" {
		t.Fatalf("rest of the stream: %q, %v", rest, err)
	}
	if err := <-handlerErr; err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		longRunningSeries(labels, "WATCH"):                                                 0,
		requestSeries("apiserver_request_total", labels, "WATCH", "", "200"):               1,
		requestSeries("apiserver_request_duration_seconds_count", labels, "WATCH", "", ""): 1,
		requestSeries("apiserver_request_duration_seconds_sum", labels, "WATCH", "", ""):   30,
	}
	if diff := cmp.Diff(want, scrape(t, m, "apiserver_")); diff != "" {
		t.Errorf("after the watch (-want +got):\n%s", diff)
	}
}

// TestInstrumentHTTPHijack upgrades a connection as exec will: the handler
// must be able to hijack through the filter, and the request is counted
// as CONNECT with 101.
func TestInstrumentHTTPHijack(t *testing.T) {
	labels := RequestLabels{Verb: "create", Version: "v1", Resource: "pods", Subresource: "exec", Scope: "resource", LongRunning: true}
	m, _ := newTestMetrics()
	done := make(chan struct{})
	instrumented := m.InstrumentHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "not a Hijacker", http.StatusInternalServerError)
			return
		}
		conn, rw, err := h.Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
		_ = rw.Flush()
	}), func(*http.Request) RequestLabels { return labels })
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		instrumented.ServeHTTP(w, r)
	}))
	defer server.Close()

	conn, err := net.Dial("tcp", server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, "POST /api/v1/namespaces/default/pods/p/exec HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: test\r\nContent-Length: 0\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	<-done
	want := map[string]float64{
		longRunningSeries(labels, "CONNECT"):                                                 0,
		requestSeries("apiserver_request_total", labels, "CONNECT", "", "101"):               1,
		requestSeries("apiserver_request_duration_seconds_count", labels, "CONNECT", "", ""): 1,
		requestSeries("apiserver_request_duration_seconds_sum", labels, "CONNECT", "", ""):   0,
	}
	if diff := cmp.Diff(want, scrape(t, m, "apiserver_")); diff != "" {
		t.Errorf("after the upgrade (-want +got):\n%s", diff)
	}
}

// TestWrapWriterInterfaces checks the filter offers what the server's
// writer offers, and no more.
func TestWrapWriterInterfaces(t *testing.T) {
	cases := []struct {
		name                      string
		writer                    http.ResponseWriter
		wantFlusher, wantHijacker bool
	}{
		{name: "recorder", writer: httptest.NewRecorder(), wantFlusher: true},
		{name: "hijackable", writer: hijackableWriter{httptest.NewRecorder()}, wantFlusher: true, wantHijacker: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := wrapWriter(&statusRecorder{ResponseWriter: tc.writer})
			_, flusher := w.(http.Flusher)
			_, hijacker := w.(http.Hijacker)
			if flusher != tc.wantFlusher || hijacker != tc.wantHijacker {
				t.Errorf("Flusher %v, Hijacker %v; want %v, %v", flusher, hijacker, tc.wantFlusher, tc.wantHijacker)
			}
		})
	}
}

type hijackableWriter struct{ *httptest.ResponseRecorder }

func (hijackableWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, http.ErrNotSupported
}

// TestInstrumentHTTPPanic checks a handler that panics before answering is
// counted as a 500 and the panic reaches the filter above.
func TestInstrumentHTTPPanic(t *testing.T) {
	labels := RequestLabels{Verb: "list", Version: "v1", Resource: "pods", Scope: "cluster"}
	m, _ := newTestMetrics()
	h := m.InstrumentHTTP(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		func(*http.Request) RequestLabels { return labels })
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the handler's panic", r)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil))
	}()
	got := scrape(t, m, "apiserver_request_total")
	want := map[string]float64{requestSeries("apiserver_request_total", labels, "LIST", "", "500"): 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDryRunLabel(t *testing.T) {
	cases := []struct{ query, want string }{
		{"", ""},
		{"limit=500", ""},
		{"dryRun=All", "All"},
		{"dryRun=All&dryRun=All", "All"},
		{"dryRun=", "invalid"},
		{"dryRun=All&dryRun=None", "invalid"},
		{"dryRunX=All", ""},
	}
	for _, tc := range cases {
		if got := dryRunLabel(&url.URL{RawQuery: tc.query}); got != tc.want {
			t.Errorf("dryRunLabel(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
}

// BenchmarkInstrumentHTTP measures what the filter adds to a request.
func BenchmarkInstrumentHTTP(b *testing.B) {
	labels := RequestLabels{Verb: "get", Version: "v1", Resource: "pods", Scope: "resource"}
	info := func(*http.Request) RequestLabels { return labels }
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"bare", next},
		{"instrumented", New().InstrumentHTTP(next, info)},
	}
	for _, hc := range handlers {
		b.Run(hc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/p", nil)
			w := discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				hc.h.ServeHTTP(w, r)
			}
		})
		b.Run(hc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods/p?dryRun=All", nil)
				w := discardWriter{header: http.Header{}}
				for pb.Next() {
					hc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

type discardWriter struct{ header http.Header }

func (w discardWriter) Header() http.Header       { return w.header }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}
