package endpoints

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestParseProxyName(t *testing.T) {
	for in, want := range map[string]proxyTarget{
		"web":           {name: "web"},
		"web:8080":      {name: "web", port: "8080"},
		"web:http":      {name: "web", port: "http"},
		"https:web:443": {scheme: "https", name: "web", port: "443"},
		"http:web:":     {scheme: "http", name: "web"},
		":web:80":       {name: "web", port: "80"},
	} {
		got, err := parseProxyName(in)
		if err != nil || got != want {
			t.Errorf("parseProxyName(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp:web:21", "a:b:c:d"} {
		if _, err := parseProxyName(bad); !apierrors.IsBadRequest(err) {
			t.Errorf("parseProxyName(%q) = %v, want a BadRequest", bad, err)
		}
	}
}

func TestServicePort(t *testing.T) {
	one := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	two := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443}}}}
	for _, tc := range []struct {
		svc      *corev1.Service
		port     string
		want     int32
		wantCode int32
	}{
		{one, "", 80, 0},
		{one, "80", 80, 0},
		{two, "https", 443, 0},
		{two, "443", 443, 0},
		{two, "", 0, 400},
		{two, "81", 0, 503},
	} {
		got, err := servicePort(tc.svc, tc.port)
		switch {
		case tc.wantCode != 0:
			if status, ok := err.(apierrors.APIStatus); !ok || status.Status().Code != tc.wantCode { //nolint:errorlint // a Status error as built
				t.Errorf("servicePort(%q) error %v, want code %d", tc.port, err, tc.wantCode)
			}
		case err != nil || got.Port != tc.want:
			t.Errorf("servicePort(%q) = %v, %v; want port %d", tc.port, got, err, tc.want)
		}
	}
}

// TestProxyToPaths: the path below the proxy prefix reaches the backend,
// a GET of the bare prefix is redirected to it with a slash, and links in
// HTML answers are rewritten to go through the proxy, as upstream does.
func TestProxyToPaths(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			w.Header().Set("Content-Type", "text/html")
			_, _ = fmt.Fprint(w, `<a href="/rewriteme">x</a>`)
			return
		}
		_, _ = fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
	}))
	defer backend.Close()
	host := strings.TrimPrefix(backend.URL, "http://")
	const prefix = "/api/v1/namespaces/ns/pods/web/proxy"
	for _, tc := range []struct {
		method, path   string
		code           int
		body, location string
	}{
		{method: http.MethodGet, path: prefix, code: http.StatusMovedPermanently, location: prefix + "/"},
		{method: http.MethodGet, path: prefix + "?q=1", code: http.StatusMovedPermanently, location: prefix + "/?q=1"},
		{method: http.MethodGet, path: prefix + "/", code: http.StatusOK, body: "GET /"},
		{method: http.MethodGet, path: prefix + "/a/b?x=1", code: http.StatusOK, body: "GET /a/b?x=1"},
		{method: http.MethodPost, path: prefix, code: http.StatusOK, body: "POST /"},
		// Links in HTML answers point back through the proxy.
		{method: http.MethodGet, path: prefix + "/page", code: http.StatusOK, body: `<a href="` + prefix + `/rewriteme">x</a>`},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		w := httptest.NewRecorder()
		(&Handler{}).proxyTo(w, r, "http", host, prefix)
		bodyOK := tc.body == "" || w.Body.String() == tc.body // a redirect's body is not compared
		if w.Code != tc.code || !bodyOK || w.Header().Get("Location") != tc.location {
			t.Errorf("%s %s: %d %q Location %q; want %d %q %q", tc.method, tc.path, w.Code, w.Body.String(),
				w.Header().Get("Location"), tc.code, tc.body, tc.location)
		}
	}
}
