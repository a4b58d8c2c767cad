package openapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// request serves one request and returns the recorder.
func request(t *testing.T, o *OpenAPI, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, req)
	return rec
}

func TestServe(t *testing.T) {
	o := newBuiltin(t)
	index := request(t, o, http.MethodGet, "/openapi/v3")
	var idx v3Index
	if err := json.Unmarshal(index.Body.Bytes(), &idx); err != nil {
		t.Fatalf("index: %v\n%s", err, index.Body)
	}
	appsURL := idx.Paths["apis/apps/v1"].ServerRelativeURL
	if !strings.HasPrefix(appsURL, "/openapi/v3/apis/apps/v1?hash=") {
		t.Fatalf("apps/v1 URL = %q", appsURL)
	}

	for _, tc := range []struct {
		name, method, target string
		header               []string
		code                 int
		contentType          string
		cacheControl         string
		location             string
	}{
		{name: "v2 default JSON", target: "/openapi/v2", code: 200, contentType: mediaJSON},
		{name: "v2 JSON", target: "/openapi/v2", header: []string{"Accept", "application/json"}, code: 200, contentType: mediaJSON},
		{name: "v2 protobuf", target: "/openapi/v2", header: []string{"Accept", mediaV2Proto}, code: 200, contentType: mediaV2ProtoV1},
		{
			name: "v2 protobuf preferred", target: "/openapi/v2",
			header: []string{"Accept", "application/json;q=0.5, " + mediaV2ProtoV1},
			code:   200, contentType: mediaV2ProtoV1,
		},
		{name: "v2 wildcard", target: "/openapi/v2", header: []string{"Accept", "*/*"}, code: 200, contentType: mediaJSON},
		{name: "v2 not acceptable", target: "/openapi/v2", header: []string{"Accept", "text/html"}, code: 406},
		{name: "v3 index", target: "/openapi/v3", code: 200, contentType: mediaJSON, cacheControl: "no-cache, private"},
		{name: "v3 index slash", target: "/openapi/v3/", code: 200, contentType: mediaJSON},
		{name: "v3 group-version", target: "/openapi/v3/api/v1", code: 200, contentType: mediaJSON, cacheControl: "no-cache, private"},
		{name: "v3 hashed", target: appsURL, code: 200, contentType: mediaJSON, cacheControl: "public, immutable"},
		{
			name: "v3 protobuf", target: appsURL, header: []string{"Accept", mediaV3Proto},
			code: 200, contentType: mediaV3ProtoV1, cacheControl: "public, immutable",
		},
		{name: "v3 stale hash", target: "/openapi/v3/apis/apps/v1?hash=OLD", code: 301, location: appsURL},
		{name: "v3 unknown group-version", target: "/openapi/v3/apis/nope/v1", code: 404},
		{name: "unknown path", target: "/openapi/v4", code: 404},
		{name: "head", method: http.MethodHead, target: "/openapi/v2", code: 200, contentType: mediaJSON},
		{name: "post", method: http.MethodPost, target: "/openapi/v2", code: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			rec := request(t, o, method, tc.target, tc.header...)
			if rec.Code != tc.code {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			h := rec.Header()
			if tc.contentType != "" && h.Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", h.Get("Content-Type"), tc.contentType)
			}
			if tc.cacheControl != "" && h.Get("Cache-Control") != tc.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", h.Get("Cache-Control"), tc.cacheControl)
			}
			if tc.location != "" && h.Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", h.Get("Location"), tc.location)
			}
			if tc.code != 200 {
				return
			}
			if h.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if method == http.MethodHead {
				if rec.Body.Len() != 0 || h.Get("Content-Length") == "0" {
					t.Errorf("HEAD: body %d bytes, Content-Length %s", rec.Body.Len(), h.Get("Content-Length"))
				}
				return
			}
			if tc.contentType == mediaJSON && !json.Valid(rec.Body.Bytes()) {
				t.Error("body is not JSON")
			}
		})
	}
}

func TestServeConditionalAndGzip(t *testing.T) {
	o := newBuiltin(t)
	for _, target := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1"} {
		t.Run(target, func(t *testing.T) {
			plain := request(t, o, http.MethodGet, target)
			etag := plain.Header().Get("ETag")
			if !strings.HasPrefix(etag, `"`) {
				t.Fatalf("ETag = %q", etag)
			}
			if again := request(t, o, http.MethodGet, target); again.Header().Get("ETag") != etag {
				t.Errorf("ETag changed: %q then %q", etag, again.Header().Get("ETag"))
			}

			notModified := request(t, o, http.MethodGet, target, "If-None-Match", `"other", `+etag)
			if notModified.Code != http.StatusNotModified || notModified.Body.Len() != 0 {
				t.Errorf("If-None-Match: code %d, %d bytes", notModified.Code, notModified.Body.Len())
			}
			if stale := request(t, o, http.MethodGet, target, "If-None-Match", `"other"`); stale.Code != 200 {
				t.Errorf("stale If-None-Match: code %d", stale.Code)
			}

			zipped := request(t, o, http.MethodGet, target, "Accept-Encoding", "deflate, gzip;q=0.8")
			if zipped.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding = %q", zipped.Header().Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(zipped.Body)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, plain.Body.Bytes()) {
				t.Error("gzipped body differs from the plain one")
			}
			if refused := request(t, o, http.MethodGet, target, "Accept-Encoding", "gzip;q=0"); refused.Header().Get("Content-Encoding") != "" {
				t.Error("gzip;q=0 still gzipped")
			}
		})
	}
}

func TestHandles(t *testing.T) {
	o := newBuiltin(t)
	for path, want := range map[string]bool{
		"/openapi/v2":                true,
		"/openapi/v3":                true,
		"/openapi/v3/":               true,
		"/openapi/v3/apis/apps/v1":   true,
		"/openapi/v2/extra":          false,
		"/openapi":                   false,
		"/openapi/v3x":               false,
		"/api/v1/namespaces/openapi": false,
	} {
		if got := o.Handles(path); got != want {
			t.Errorf("Handles(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	offers := []string{mediaJSON, mediaV2Proto, mediaV2ProtoV1}
	for _, tc := range []struct {
		accept string
		want   string
	}{
		{"", mediaJSON},
		{"application/json", mediaJSON},
		{mediaV2Proto, mediaV2Proto},
		{mediaV2ProtoV1 + ", application/json", mediaV2ProtoV1},
		{"application/json;q=0.9, " + mediaV2Proto, mediaV2Proto},
		{"APPLICATION/JSON", mediaJSON},
		{"application/*;q=0.1, text/plain", mediaJSON},
		{"text/plain, application/json;q=0", ""},
		{"application/json;q=bad", ""},
		{"text/html", ""},
	} {
		got, ok := negotiate(tc.accept, offers)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("negotiate(%q) = %q, %v; want %q", tc.accept, got, ok, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	got := map[string]bool{}
	for _, h := range []string{"", "gzip", "GZIP", "deflate, gzip", "gzip;q=0", "gzip; q=0.5", "br", "gzip;q=x"} {
		got[h] = acceptsGzip(h)
	}
	want := map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip": true,
		"gzip;q=0": false, "gzip; q=0.5": true, "br": false, "gzip;q=x": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("acceptsGzip (-want +got):\n%s", diff)
	}
}

// TestConcurrentFirstRequests races the first requests, which make the
// serializations, against each other (run with -race).
func TestConcurrentFirstRequests(t *testing.T) {
	o, err := New(builtinKinds(t))
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{"/openapi/v3", "/openapi/v3/api/v1", "/openapi/v2", "/openapi/v3/apis/apps/v1"}
	etags := make([]string, 2*len(targets))
	var wg sync.WaitGroup
	for i := range etags {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, targets[i%len(targets)], nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			o.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("%s: code %d", targets[i%len(targets)], rec.Code)
			}
			etags[i] = rec.Header().Get("ETag")
		})
	}
	wg.Wait()
	for i := range targets {
		if etags[i] != etags[i+len(targets)] {
			t.Errorf("%s: ETags %s and %s", targets[i], etags[i], etags[i+len(targets)])
		}
	}
}
