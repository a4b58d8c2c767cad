package endpoints

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRequestInfo(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        RequestInfo
	}{
		{"GET", "/api/v1/pods", RequestInfo{IsResourceRequest: true, Verb: "list", APIVersion: "v1", Resource: "pods"}},
		{"GET", "/api/v1/namespaces/ns/pods/p", RequestInfo{IsResourceRequest: true, Verb: "get", APIVersion: "v1", Namespace: "ns", Resource: "pods", Name: "p"}},
		{"GET", "/api/v1/namespaces/ns/pods?watch=true", RequestInfo{IsResourceRequest: true, Verb: "watch", APIVersion: "v1", Namespace: "ns", Resource: "pods"}},
		{"GET", "/api/v1/watch/namespaces/ns/pods", RequestInfo{IsResourceRequest: true, Verb: "watch", APIVersion: "v1", Namespace: "ns", Resource: "pods"}},
		{"PUT", "/api/v1/namespaces/ns/pods/p/status", RequestInfo{IsResourceRequest: true, Verb: "update", APIVersion: "v1", Namespace: "ns", Resource: "pods", Name: "p", Subresource: "status"}},
		{"GET", "/api/v1/namespaces/ns", RequestInfo{IsResourceRequest: true, Verb: "get", APIVersion: "v1", Namespace: "ns", Resource: "namespaces", Name: "ns"}},
		{"PUT", "/api/v1/namespaces/ns/finalize", RequestInfo{IsResourceRequest: true, Verb: "update", APIVersion: "v1", Namespace: "ns", Resource: "namespaces", Name: "ns", Subresource: "finalize"}},
		{"POST", "/apis/apps/v1/namespaces/ns/deployments", RequestInfo{IsResourceRequest: true, Verb: "create", APIGroup: "apps", APIVersion: "v1", Namespace: "ns", Resource: "deployments"}},
		{"DELETE", "/apis/apps/v1/namespaces/ns/deployments", RequestInfo{IsResourceRequest: true, Verb: "deletecollection", APIGroup: "apps", APIVersion: "v1", Namespace: "ns", Resource: "deployments"}},
		{"PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", RequestInfo{IsResourceRequest: true, Verb: "patch", APIGroup: "rbac.authorization.k8s.io", APIVersion: "v1", Resource: "clusterroles", Name: "admin"}},
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy/a/b", RequestInfo{IsResourceRequest: true, Verb: "get", APIVersion: "v1", Namespace: "ns", Resource: "pods", Name: "p", Subresource: "proxy", Rest: []string{"a", "b"}}},
		{"GET", "/api/v1", RequestInfo{}},
		{"GET", "/apis/apps/v1", RequestInfo{}},
		{"GET", "/healthz", RequestInfo{}},
	} {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			got := ParseRequestInfo(httptest.NewRequest(tc.method, tc.url, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithRequestInfoParsesOnce(t *testing.T) {
	var got RequestInfo
	h := WithRequestInfo(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/healthz" // a later rewrite must not change what was parsed
		got = RequestInfoFor(r)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/namespaces/ns/pods/p", nil))
	want := RequestInfo{IsResourceRequest: true, Verb: "get", APIVersion: "v1", Namespace: "ns", Resource: "pods", Name: "p"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
