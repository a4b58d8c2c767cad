package apiserver

import (
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/version"

	"github.com/tugcluster/tug/internal/apiserver/convert"
	"github.com/tugcluster/tug/internal/apiserver/customresources"
	"github.com/tugcluster/tug/internal/apiserver/endpoints"
	"github.com/tugcluster/tug/internal/apiserver/filters"
	"github.com/tugcluster/tug/internal/apiserver/metrics"
	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/apiserver/watchcache"
	"github.com/tugcluster/tug/internal/apiserver/watchcache/sharing"
	"github.com/tugcluster/tug/internal/auth/serviceaccount"
	"github.com/tugcluster/tug/internal/join"
	"github.com/tugcluster/tug/internal/storage"
)

// PathHandler serves a fixed set of paths.
type PathHandler interface {
	http.Handler
	// Handles reports whether path is one of this handler's.
	Handles(path string) bool
}

// Config is everything the API server is built from.
type Config struct {
	Scheme    *runtime.Scheme
	Resources []resources.Resource
	// Backend stores every object.
	Backend storage.Backend
	// Discovery and OpenAPI serve their documents; OpenAPI may be nil.
	Discovery PathHandler
	OpenAPI   PathHandler
	// Table converts objects for kubectl get.
	Table endpoints.TableFunc
	// TypeConverter knows the schema of every type, for server-side apply
	// and managedFields; nil disables both.
	TypeConverter managedfields.TypeConverter
	// Version is what /version reports.
	Version version.Info
	// Ready returns nil once the server may take traffic.
	Ready func() error
	// Metrics records requests and serves /metrics; nil disables both.
	Metrics *metrics.Metrics
	// Strategies are the resources' own strategies; the others get the
	// generic one.
	Strategies map[schema.GroupVersionResource]registry.Strategy
	// JoinToken, if set, authenticates node agents and signs the CA that
	// CAPEM holds when an agent asks for it (package join).
	JoinToken string
	CAPEM     []byte
	// KubeletClient is the TLS config the API server reaches kubelets with
	// (pods/log, exec, attach, portforward, nodes/proxy): the cluster CA as
	// RootCAs and a system:masters client certificate. nil answers those
	// with 503.
	KubeletClient *tls.Config
	// NodeCertSigner, with JoinToken, issues node agents their client and
	// serving certificates at join.NodeCertsPath; nil serves no such path.
	NodeCertSigner join.CertSigner
	// ServiceAccountKey signs service-account tokens (serviceaccounts/token)
	// and its public half authenticates them; nil does neither.
	ServiceAccountKey crypto.Signer
	// ServiceAccountIssuer is the tokens' issuer and the API server's
	// audience. Default serviceaccount.DefaultIssuer.
	ServiceAccountIssuer string
	// NewCustomSchema builds the schema of a CRD version; with it the
	// server serves the custom resources of CustomResourceDefinitions.
	NewCustomSchema func(*apiextensionsv1.JSONSchemaProps) (customresources.Schema, error)
	// OnCustomResources is told the served custom resources whenever
	// they change (discovery and OpenAPI follow them).
	OnCustomResources func([]customresources.Served)
	// CustomTable shows custom resources with their version's printer
	// columns; nil shows them as Table does.
	CustomTable func(obj runtime.Object, columns []apiextensionsv1.CustomResourceColumnDefinition,
		noHeaders bool, include metav1.IncludeObjectPolicy, now time.Time) (*metav1.Table, error)
}

// APIServer is the assembled HTTP surface.
type APIServer struct {
	// Handler serves every path.
	Handler http.Handler
	// Stores serve each resource; in-process components use them to
	// bootstrap objects.
	Stores map[schema.GroupVersionResource]*registry.Store
	// Custom serves the custom resources; nil without NewCustomSchema.
	Custom *customresources.Manager

	caches []*watchcache.Cache
}

// Run keeps the watch caches and the served custom resources current
// until ctx ends.
func (s *APIServer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, c := range s.caches {
		wg.Go(func() { c.Run(ctx) })
	}
	if s.Custom != nil {
		wg.Go(func() { s.Custom.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// WaitForCaches blocks until every watch cache holds its first listing and
// the custom resources of the stored CRDs are served.
func (s *APIServer) WaitForCaches(ctx context.Context) error {
	for _, c := range s.caches {
		if err := c.WaitReady(ctx); err != nil {
			return err
		}
	}
	if s.Custom != nil {
		return s.Custom.WaitSynced(ctx)
	}
	return nil
}

// New builds the API server.
func New(cfg Config) (*APIServer, error) {
	stores, caches, err := buildStores(cfg)
	if err != nil {
		return nil, err
	}
	var fields *endpoints.FieldManagers
	if cfg.TypeConverter != nil {
		fields = endpoints.NewFieldManagers(cfg.Scheme, cfg.TypeConverter)
	}
	var tokenIssuer *serviceaccount.Issuer
	if cfg.ServiceAccountKey != nil {
		if tokenIssuer, err = serviceaccount.NewIssuer(cfg.ServiceAccountKey, cfg.ServiceAccountIssuer); err != nil {
			return nil, err
		}
	}
	var custom *customresources.Manager
	var customLookup func(schema.GroupVersionResource) (*registry.Store, bool)
	if crds, ok := stores[apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")]; ok && cfg.NewCustomSchema != nil {
		custom = customresources.New(customresources.Config{
			CRDs: crds, Backend: cfg.Backend, NewSchema: cfg.NewCustomSchema, OnChange: cfg.OnCustomResources,
		})
		customLookup = custom.Lookup
	}
	table := cfg.Table
	if custom != nil && cfg.CustomTable != nil {
		table = func(obj runtime.Object, noHeaders bool, include metav1.IncludeObjectPolicy, now time.Time) (*metav1.Table, error) {
			if columns, ok := customColumns(custom, obj); ok {
				return cfg.CustomTable(obj, columns, noHeaders, include, now)
			}
			return cfg.Table(obj, noHeaders, include, now)
		}
	}
	resourceHandler := endpoints.New(endpoints.Config{
		Scheme: cfg.Scheme, Stores: stores, Table: table, FieldManagers: fields, Admission: admissionChain(stores),
		Tokens: tokenIssuer, KubeletClient: cfg.KubeletClient, Custom: customLookup,
	})
	virtual := newVirtualHandler(resourceHandler)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/livez", ok)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				http.Error(w, fmt.Sprintf("not ready: %v", err), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	if cfg.Metrics != nil {
		mux.Handle("/metrics", cfg.Metrics.Handler())
	}
	if cfg.JoinToken != "" {
		mux.Handle(join.CAPath, join.Handler(cfg.JoinToken, cfg.CAPEM))
		if cfg.NodeCertSigner != nil {
			mux.Handle(join.NodeCertsPath, join.NodeCertsHandler(cfg.JoinToken, cfg.NodeCertSigner))
		}
	}
	// Profiling, as kube-apiserver's --profiling serves it: for cluster
	// admins only (these paths are not public).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		data, _ := json.MarshalIndent(cfg.Version, "", "  ")
		_, _ = w.Write(data)
	})
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case cfg.Discovery != nil && cfg.Discovery.Handles(path):
			cfg.Discovery.ServeHTTP(w, r)
		case cfg.OpenAPI != nil && cfg.OpenAPI.Handles(path):
			cfg.OpenAPI.ServeHTTP(w, r)
		case virtual.handles(r):
			virtual.ServeHTTP(w, r)
		case strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/apis/"):
			resourceHandler.ServeHTTP(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
	writeError := resourceHandler.WriteError
	handler := filters.MaxInFlight(root, filters.DefaultMaxReadOnlyInFlight, filters.DefaultMaxMutatingInFlight, filters.DefaultQueueWait, isUnlimited, writeError)
	handler = filters.Authorize(handler, func(r *http.Request) bool { return isPublicPath(r.URL.Path) || virtual.selfReview(r) }, writeError)
	tokens, reviewTokens, err := tokenAuthenticators(cfg, resourceHandler.ServiceAccountObjects())
	if err != nil {
		return nil, err
	}
	virtual.tokens = reviewTokens
	handler = filters.Authenticate(handler, isPublicPath, tokens, writeError)
	if cfg.Metrics != nil {
		handler = cfg.Metrics.InstrumentHTTP(handler, requestLabels(stores))
	}
	handler = filters.Recover(handler, writeError)
	handler = filters.OnWorkers(handler, filters.DefaultMaxWorkers, isLongRunning)
	handler = endpoints.WithRequestInfo(handler)
	return &APIServer{Handler: handler, Stores: stores, Custom: custom, caches: caches}, nil
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// customColumns returns the printer columns of a custom resource or list.
func customColumns(custom *customresources.Manager, obj runtime.Object) ([]apiextensionsv1.CustomResourceColumnDefinition, bool) {
	if !endpoints.IsCustom(obj) {
		return nil, false
	}
	return custom.Columns(obj.GetObjectKind().GroupVersionKind())
}

// isLongRunning tells watches and streams, which hold a connection for as
// long as the client wants and so do not count against in-flight limits.
func isLongRunning(r *http.Request) bool {
	info := endpoints.RequestInfoFor(r)
	return info.Verb == "watch" || longRunningSubresources[info.Subresource]
}

// isUnlimited tells the requests the in-flight limits do not count: the
// long-running ones, and those of system:masters, which kube-apiserver's
// "exempt" priority level serves without limit. The server's own
// controllers and scheduler are system:masters: their bindings and pod
// creations, refused with 429 when the node agents' status reports filled
// the mutating slots, each slept a whole Retry-After second, and the
// scheduler's bounded bindings in flight stalled its loop.
func isUnlimited(r *http.Request) bool {
	if isLongRunning(r) {
		return true
	}
	u, ok := filters.UserFrom(r.Context())
	return ok && slices.Contains(u.Groups, filters.MastersGroup)
}

// isPublicPath lists what anyone may read, as upstream's
// system:public-info-viewer role allows.
func isPublicPath(path string) bool {
	switch path {
	case "/healthz", "/livez", "/readyz", "/version", join.CAPath:
		return true
	}
	return false
}

// buildStores creates a registry store, behind a watch cache, for every
// stored resource. Objects are stored as protobuf, as Kubernetes stores them.
func buildStores(cfg Config) (map[schema.GroupVersionResource]*registry.Store, []*watchcache.Cache, error) {
	codecs := serializer.NewCodecFactory(cfg.Scheme)
	var proto runtime.Serializer
	for _, info := range codecs.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeProtobuf {
			proto = info.Serializer
		}
	}
	if proto == nil {
		return nil, nil, fmt.Errorf("scheme has no protobuf serializer")
	}
	stores := map[schema.GroupVersionResource]*registry.Store{}
	var caches []*watchcache.Cache
	byGVR := map[schema.GroupVersionResource]*watchcache.Cache{}
	var converted []*resources.Resource
	for i := range cfg.Resources {
		res := &cfg.Resources[i]
		if isVirtual(res) {
			continue
		}
		if _, ok := conversions[res.GVR]; ok {
			converted = append(converted, res) // after the storage it reads
			continue
		}
		gv := res.GVR.GroupVersion()
		codec := codecs.CodecForVersions(proto, proto, gv, gv)
		store := &registry.Store{Resource: res, Strategy: strategyFor(res, cfg.Strategies)}
		cache := watchcache.New(watchcache.Config{
			Storage:     storage.NewStore(cfg.Backend, storage.Config{Codec: codec, NewFunc: res.New}),
			Backend:     cfg.Backend,
			Prefix:      store.KeyPrefix(),
			NewFunc:     res.New,
			NewListFunc: res.NewList,
			Share:       sharing.New(),
		})
		store.Storage = cache
		stores[res.GVR] = store
		caches = append(caches, cache)
		byGVR[res.GVR] = cache
	}
	for _, res := range converted {
		conv := conversions[res.GVR]
		inner, ok := byGVR[conv.storedAs]
		if !ok {
			return nil, nil, fmt.Errorf("%v is stored as %v, which is not served", res.GVR, conv.storedAs)
		}
		stores[res.GVR] = &registry.Store{
			Resource: res,
			Strategy: strategyFor(res, cfg.Strategies),
			Storage:  convert.New(inner, conv.funcs),
			StoredAs: conv.storedAs.GroupResource(),
		}
	}
	return stores, caches, nil
}

// conversions lists the resources served from another version's storage.
var conversions = map[schema.GroupVersionResource]struct {
	storedAs schema.GroupVersionResource
	funcs    convert.Funcs
}{
	eventsv1.SchemeGroupVersion.WithResource("events"): {corev1.SchemeGroupVersion.WithResource("events"), convert.Events},
	autoscalingv1.SchemeGroupVersion.WithResource("horizontalpodautoscalers"): {
		autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers"), convert.HorizontalPodAutoscalers,
	},
}

// isVirtual tells resources that are never stored: reviews and bindings
// only answer a create.
func isVirtual(res *resources.Resource) bool {
	return len(res.Verbs) == 1 && res.Verbs[0] == "create"
}
