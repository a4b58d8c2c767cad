package discovery

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testAddress is the server address the documents are built with; the
// upstream documents under testdata/upstream were read from a
// kube-apiserver at this address.
const testAddress = "127.0.0.1:6443"

func newTestDiscovery(t *testing.T) *Discovery {
	t.Helper()
	d, err := New(resources.Builtin(), testAddress)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// request serves one request with the given headers (name, value, …) and
// returns the recorder.
func request(d *Discovery, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	return rec
}

// get serves a GET with the given Accept header ("" for none).
func get(d *Discovery, path, accept string, header ...string) *httptest.ResponseRecorder {
	if accept != "" {
		header = append(header, "Accept", accept)
	}
	return request(d, http.MethodGet, path, header...)
}

// normalise re-indents a JSON document, keeping its field order, so that
// golden files diff well whatever the spacing of the original.
func normalise(t *testing.T, body []byte) []byte {
	t.Helper()
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(out.Bytes(), '\n')
}

// fileName names the file of a document: /apis/apps/v1 → apis_apps_v1,
// plus ".v2" for the aggregated form, plus the extension.
func fileName(path string, aggregated bool, ext string) string {
	name := strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "_")
	if aggregated {
		name += ".v2"
	}
	return name + "." + ext
}

// pathOf inverts fileName: group names have dots but no underscores.
func pathOf(file string) (path string, aggregated bool, ext string) {
	name, ext, _ := strings.Cut(file, ".")
	for _, suffix := range []string{"json", "pb", "yaml"} {
		if before, ok := strings.CutSuffix(file, "."+suffix); ok {
			ext = suffix
			name = before
		}
	}
	name, aggregated = strings.CutSuffix(name, ".v2")
	return "/" + strings.ReplaceAll(name, "_", "/"), aggregated, ext
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff.\ngot:\n%s", name, got)
	}
}

// paths returns every path the discovery serves, sorted.
func paths(d *Discovery) []string {
	var ps []string
	for p := range d.docs {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func TestGolden(t *testing.T) {
	d := newTestDiscovery(t)
	for _, path := range paths(d) {
		t.Run(path, func(t *testing.T) {
			rec := get(d, path, "application/json")
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			checkGolden(t, fileName(path, false, "json"), normalise(t, rec.Body.Bytes()))
			if path != "/api" && path != "/apis" {
				return
			}
			rec = get(d, path, ContentTypeAggregated)
			if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || ct != ContentTypeAggregated {
				t.Fatalf("aggregated: status %d, Content-Type %q", rec.Code, ct)
			}
			checkGolden(t, fileName(path, true, "json"), normalise(t, rec.Body.Bytes()))
		})
	}
}

// upstreamStorageVersions maps the storageVersionHash upstream v1.37 shows
// for the five resources it still stores at a beta version
// (CustomResourceDefinition, ClusterTrustBundle, PodCertificateRequest and
// StorageVersionMigration at v1beta1, DeviceTaintRule at v1beta2) to tug's,
// which stores them at v1, the version it serves.
var upstreamStorageVersions = map[string]string{
	"jfWCUB31mvA=": "M5uH+AlWATY=",
	"v5yhuVertL4=": "R/wbJqMRFu8=",
	"wYA9yXQH8fg=": "y6DwA8NQC8M=",
	"i+85+TcIKpA=": "qvhYPLi0ox4=",
	"pCjmmKOkLy4=": "fG8W2W0mBLo=",
}

// TestMatchesUpstream compares each document with the one upstream
// kube-apiserver v1.37.2 serves (testdata/upstream, read with curl): JSON
// after normalising, protobuf and YAML byte for byte.
func TestMatchesUpstream(t *testing.T) {
	d := newTestDiscovery(t)
	files, err := os.ReadDir(filepath.Join("testdata", "upstream"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(f.Name(), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "upstream", f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			path, aggregated, ext := pathOf(f.Name())
			accept := map[string]string{"json": contentTypeJSON, "pb": contentTypeProtobuf, "yaml": contentTypeYAML}[ext]
			if aggregated {
				accept += aggregatedParams
			}
			rec := get(d, path, accept)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != accept {
				t.Fatalf("GET %s Accept %s: status %d, Content-Type %q", path, accept, rec.Code, rec.Header().Get("Content-Type"))
			}
			got := rec.Body.Bytes()
			if ext == "json" {
				seen[f.Name()] = true
				for theirs, ours := range upstreamStorageVersions {
					want = bytes.ReplaceAll(want, []byte(`"`+theirs+`"`), []byte(`"`+ours+`"`))
				}
				want, got = normalise(t, want), normalise(t, got)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("GET %s Accept %s differs from upstream.\nupstream:\n%s\ntug:\n%s", path, accept, want, got)
			}
		})
	}
	// Every JSON document tug serves has its upstream counterpart.
	for _, path := range paths(d) {
		for _, aggregated := range []bool{false, true} {
			if aggregated && path != "/api" && path != "/apis" {
				continue
			}
			if name := fileName(path, aggregated, "json"); !seen[name] {
				t.Errorf("no upstream document %s", name)
			}
		}
	}
}

func TestPathsServed(t *testing.T) {
	d := newTestDiscovery(t)
	// /api, /apis, 21 named groups, and 23 group-versions.
	if got, want := len(d.docs), 2+21+23; got != want {
		t.Errorf("%d paths served, want %d: %v", got, want, paths(d))
	}
	for path, want := range map[string]bool{
		"/api": true, "/api/v1": true, "/apis": true, "/apis/apps": true, "/apis/apps/v1": true,
		"/apis/autoscaling/v1": true, "/apis/autoscaling/v2": true,
		// Upstream serves each with a trailing slash too; the conformance
		// tests read /apis/.
		"/api/": true, "/apis/": true, "/apis/apps/": true, "/api/v1/": true,
		"/api/v2": false, "/apis/apps/v1/deployments": false, "/apis/extensions": false,
		"/apis//": false, "/version": false, "/": false, "": false,
	} {
		if got := d.Handles(path); got != want {
			t.Errorf("Handles(%q) = %v, want %v", path, got, want)
		}
	}
	if a, b := get(d, "/apis/", "").Body.String(), get(d, "/apis", "").Body.String(); a != b {
		t.Error("/apis/ and /apis differ")
	}
}

// TestNegotiation follows what upstream answers to each Accept header.
func TestNegotiation(t *testing.T) {
	d := newTestDiscovery(t)
	const (
		protobuf      = "application/vnd.kubernetes.protobuf"
		aggregatedPB  = protobuf + aggregatedParams
		aggregatedYML = "application/yaml" + aggregatedParams
	)
	for _, tc := range []struct {
		path, accept string
		code         int
		contentType  string
	}{
		{"/api", "", 200, "application/json"},
		{"/api", "*/*", 200, "application/json"},
		{"/apis", "application/json, */*", 200, "application/json"},
		{"/apis", "application/yaml", 200, "application/yaml"},
		{"/api/v1", protobuf, 200, protobuf},
		{"/api/v1", protobuf + ", application/json", 200, protobuf},
		{"/api/v1", "text/html;q=0.9, application/json;q=0.8", 200, "application/json"},
		{"/apis", ContentTypeAggregated, 200, ContentTypeAggregated},
		{"/apis", aggregatedPB, 200, aggregatedPB},
		{"/api", aggregatedYML, 200, aggregatedYML},
		{"/apis", ContentTypeAggregated + ";profile=nopeer", 200, ContentTypeAggregated},
		{"/apis", "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io", 200, ContentTypeAggregated},
		// client-go's default: aggregated first, legacy as the fallback.
		{"/api", ContentTypeAggregated + ",application/json", 200, ContentTypeAggregated},
		// Aggregated wins when accepted at all, as upstream.
		{"/api", ContentTypeAggregated + ";q=0.5, application/json", 200, ContentTypeAggregated},
		{"/apis", aggregatedPB + "," + ContentTypeAggregated + ";q=0.9,application/json;q=0.8", 200, aggregatedPB},
		// Aggregated discovery exists only at /api and /apis.
		{"/apis/apps/v1", ContentTypeAggregated + ",application/json", 200, "application/json"},
		{"/apis/apps/v1", ContentTypeAggregated, 406, "application/json"},
		{"/apis/apps", aggregatedYML, 406, "application/json"},
		// v2beta1 is no longer served upstream.
		{"/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", 406, "application/json"},
		{"/apis", "application/json;as=Table;v=v1;g=meta.k8s.io", 406, "application/json"},
		{"/api", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", 406, "application/json"},
		{"/api", "text/html", 406, "application/json"},
		{"/apis", "application/json;q=0", 406, "application/json"},
		{"/nope", "", 404, "application/json"},
	} {
		rec := get(d, tc.path, tc.accept)
		if rec.Code != tc.code || rec.Header().Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s Accept %q: %d %q, want %d %q", tc.path, tc.accept,
				rec.Code, rec.Header().Get("Content-Type"), tc.code, tc.contentType)
		}
		if tc.code != 200 {
			var status metav1.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil || status.Kind != "Status" ||
				status.Code != int32(tc.code) {
				t.Errorf("GET %s Accept %q: body %s is not a Status", tc.path, tc.accept, rec.Body)
			}
		}
	}
}

func TestStatusBodies(t *testing.T) {
	d := newTestDiscovery(t)
	for _, tc := range []struct {
		rec  *httptest.ResponseRecorder
		want string
	}{
		{get(d, "/api/v1", "text/html"), `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
			`"message":"only the following media types are accepted: application/json, application/yaml, ` +
			`application/vnd.kubernetes.protobuf","reason":"NotAcceptable","code":406}`},
		{request(d, http.MethodPost, "/api"), `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
			`"message":"the server does not allow this method on the requested resource","reason":"MethodNotAllowed",` +
			`"details":{},"code":405}`},
		{get(d, "/apis/apps/v2", ""), `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
			`"message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`},
	} {
		if got := strings.TrimSpace(tc.rec.Body.String()); got != tc.want {
			t.Errorf("body\n%s\nwant\n%s", got, tc.want)
		}
	}
}

func TestETag(t *testing.T) {
	d := newTestDiscovery(t)
	legacy := get(d, "/apis", "")
	aggregated := get(d, "/apis", ContentTypeAggregated)
	etag := legacy.Header().Get("ETag")
	if etag == "" || !strings.HasPrefix(etag, `"`) || etag == aggregated.Header().Get("ETag") {
		t.Fatalf("ETags %q (legacy) and %q (aggregated) must be quoted and differ", etag, aggregated.Header().Get("ETag"))
	}
	for rec, cacheControl := range map[*httptest.ResponseRecorder]string{legacy: "no-cache, private", aggregated: "public"} {
		if h := rec.Header(); h.Get("Vary") != "Accept" || h.Get("Cache-Control") != cacheControl {
			t.Errorf("Vary %q, Cache-Control %q; want Accept, %q", h.Get("Vary"), h.Get("Cache-Control"), cacheControl)
		}
	}
	for _, tc := range []struct {
		ifNoneMatch string
		code        int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"other"`, http.StatusOK},
		{aggregated.Header().Get("ETag"), http.StatusOK},
	} {
		rec := get(d, "/apis", "application/json", "If-None-Match", tc.ifNoneMatch)
		if rec.Code != tc.code {
			t.Errorf("If-None-Match %s: status %d, want %d", tc.ifNoneMatch, rec.Code, tc.code)
		}
		if rec.Code == http.StatusNotModified && (rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag) {
			t.Errorf("304 with body %q and ETag %q", rec.Body, rec.Header().Get("ETag"))
		}
	}
	// The ETag is a hash of the document: a different server address
	// changes /api's but not /apis's.
	other, err := New(resources.Builtin(), "10.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	if get(other, "/apis", "").Header().Get("ETag") != etag {
		t.Error("/apis ETag depends on the server address")
	}
	if get(other, "/api", "").Header().Get("ETag") == get(d, "/api", "").Header().Get("ETag") {
		t.Error("/api ETag does not depend on the server address")
	}
}

func TestMethods(t *testing.T) {
	d := newTestDiscovery(t)
	// Upstream answers only GET, not even HEAD.
	for _, method := range []string{http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if rec := request(d, method, "/apis/apps/v1"); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d", method, rec.Code)
		}
	}
}
