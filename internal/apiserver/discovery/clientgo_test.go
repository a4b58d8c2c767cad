package discovery

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	clientdiscovery "k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// startServer serves the discovery handler over TLS, 404 elsewhere, and
// records the paths it was asked for.
func startServer(t *testing.T) (*rest.Config, *requestLog) {
	t.Helper()
	d := newTestDiscovery(t)
	log := &requestLog{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r.URL.Path)
		if !d.Handles(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		d.ServeHTTP(w, r)
	}))
	// Client-go's idle connections closing at the end are not news.
	srv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	return cfg, log
}

type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) add(path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, path)
}

func (l *requestLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.paths...)
}

func TestClientGoDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		legacy bool
		// requests is how many documents client-go fetches: aggregated
		// discovery needs only /api and /apis.
		requests int
	}{
		{name: "aggregated", requests: 2},
		{name: "legacy", legacy: true, requests: 2 + 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, log := startServer(t)
			dc, err := clientdiscovery.NewDiscoveryClientForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var client clientdiscovery.DiscoveryInterface = dc
			if tc.legacy {
				client = dc.WithLegacy()
			}
			groups, lists, err := client.ServerGroupsAndResources()
			if err != nil {
				t.Fatal(err)
			}
			gvs := 0
			for _, g := range groups {
				gvs += len(g.Versions)
			}
			if gvs != 23 || len(lists) != 23 {
				t.Errorf("%d group-versions in groups, %d resource lists; want 23", gvs, len(lists))
			}
			resourcesSeen, subresources := 0, 0
			for _, l := range lists {
				for _, r := range l.APIResources {
					if strings.Contains(r.Name, "/") {
						subresources++
					} else {
						resourcesSeen++
					}
				}
			}
			// The 71 resources of upstream-api-resources.txt, at their
			// preferred versions, plus autoscaling/v1's
			// horizontalpodautoscalers.
			if resourcesSeen != 72 || subresources < 45 {
				t.Errorf("%d resources and %d subresources; want 72 and 45 or more", resourcesSeen, subresources)
			}
			if got := len(log.get()); got != tc.requests {
				t.Errorf("client made %d requests, want %d: %v", got, tc.requests, log.get())
			}
			preferred, err := client.ServerPreferredResources()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range preferred {
				n += len(l.APIResources)
			}
			if n != 71 {
				t.Errorf("%d preferred resources, want 71", n)
			}
		})
	}
}

func TestRESTMapperShortNames(t *testing.T) {
	cfg, _ := startServer(t)
	dc, err := clientdiscovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
	for short, want := range map[string]schema.GroupVersionResource{
		"po":     {Version: "v1", Resource: "pods"},
		"svc":    {Version: "v1", Resource: "services"},
		"deploy": {Group: "apps", Version: "v1", Resource: "deployments"},
		"hpa":    {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
		"crd":    {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
		"netpol": {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		"pod":    {Version: "v1", Resource: "pods"},
		"pods":   {Version: "v1", Resource: "pods"},
	} {
		got, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: short})
		if err != nil || got != want {
			t.Errorf("ResourceFor(%q) = %v, %v; want %v", short, got, err, want)
		}
	}
	gvk, err := mapper.KindFor(schema.GroupVersionResource{Resource: "sts"})
	if err != nil || gvk != (schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}) {
		t.Errorf("KindFor(sts) = %v, %v", gvk, err)
	}
	m, err := mapper.RESTMapping(schema.GroupKind{Kind: "Namespace"})
	if err != nil || m.Scope.Name() != "root" || m.Resource.Resource != "namespaces" {
		t.Errorf("RESTMapping(Namespace) = %+v, %v", m, err)
	}
	// Events exist in two groups with the short name "ev"; which one
	// client-go picks depends on its map order, as against upstream.
	if got, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: "ev"}); err != nil || got.Resource != "events" {
		t.Errorf("ResourceFor(ev) = %v, %v", got, err)
	}
	categories := restmapper.NewDiscoveryCategoryExpander(cached)
	all, ok := categories.Expand("all")
	unique := map[schema.GroupResource]bool{}
	for _, gr := range all {
		unique[gr] = true
	}
	// horizontalpodautoscalers is listed once per autoscaling version.
	if !ok || len(unique) != 10 {
		t.Errorf("category all expands to %v", all)
	}
}
