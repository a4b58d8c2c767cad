// Package server is the composition root of `tug server`: it opens storage,
// ensures certificates and the admin kubeconfig, builds the API server,
// bootstraps the built-in objects and serves HTTPS until its context ends.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/agent"
	"github.com/tugcluster/tug/internal/apiserver"
	"github.com/tugcluster/tug/internal/apiserver/discovery"
	"github.com/tugcluster/tug/internal/apiserver/filters"
	"github.com/tugcluster/tug/internal/apiserver/loopback"
	"github.com/tugcluster/tug/internal/apiserver/metrics"
	"github.com/tugcluster/tug/internal/apiserver/openapi"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/apiserver/tables"
	"github.com/tugcluster/tug/internal/kubeconfig"
	"github.com/tugcluster/tug/internal/memtrim"
	"github.com/tugcluster/tug/internal/pki"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/storage/bolt"
	tugversion "github.com/tugcluster/tug/internal/version"
)

// Run runs the server until ctx is canceled. ready, if not nil, is called
// with the API server's URL once /readyz would answer ok.
func Run(ctx context.Context, opts Options, ready func(url string)) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	start := time.Now()
	defer memtrim.SetServerGCPercent()()
	logger := klog.FromContext(ctx)
	if !opts.DisableAgent && opts.Agent.ContainerRuntimeEndpoint == "" {
		// Say what to install before starting anything.
		if err := containerd.CheckBinaries(); err != nil {
			return err
		}
	}

	boltBackend, err := bolt.Open(bolt.Options{Dir: filepath.Join(opts.DataDir, "server", "db")})
	if err != nil {
		return err
	}
	apiMetrics := metrics.New()
	leading := newLeadingGauge(apiMetrics.Registerer())
	identity := leaderIdentity(opts.DataDir)
	backend := apiMetrics.InstrumentBackend(boltBackend)
	defer func() {
		if err := backend.Close(); err != nil {
			logger.Error(err, "Closing storage failed")
		}
	}()
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(opts.DataDir, "server", "tls")})
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	joinToken, err := pki.EnsureToken(filepath.Join(opts.DataDir, "server", "token"))
	if err != nil {
		return fmt.Errorf("join token: %w", err)
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(opts.BindAddress, strconv.Itoa(opts.HTTPSPort)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	url := kubeconfig.ServerURL(opts.BindAddress, port)
	admin := kubeconfig.Admin(url, bundle.CAPEM, bundle.AdminCertPEM, bundle.AdminKeyPEM)
	if err := kubeconfig.Write(filepath.Join(opts.DataDir, "kubeconfig.yaml"), admin); err != nil {
		_ = listener.Close()
		return fmt.Errorf("write kubeconfig: %w", err)
	}

	var isReady atomic.Bool
	catalog := resources.Builtin()
	strategies, allocator, err := buildStrategies()
	if err != nil {
		_ = listener.Close()
		return err
	}
	serverAddress := net.JoinHostPort(serverHost(opts.BindAddress), strconv.Itoa(port))
	disc, err := discovery.New(catalog, serverAddress)
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("discovery: %w", err)
	}
	docs, err := openapi.New(openAPIKinds(catalog))
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("openapi: %w", err)
	}
	documents := &customDocuments{catalog: catalog, serverAddress: serverAddress, discovery: newSwitchable(disc),
		openAPIBase: docs, openAPI: newSwitchable(docs), logError: logger.Error}
	openAPIConverter, err := managedfields.NewTypeConverter(docs.Schemas(), false)
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("server-side apply type converter: %w", err)
	}
	typeConverter := newFieldsTypeConverter(resources.Scheme(), openAPIConverter)
	go typeConverter.warm()
	kubeletClient, err := kubeletClientTLS(bundle)
	if err != nil {
		_ = listener.Close()
		return err
	}
	v := tugversion.Get()
	api, err := apiserver.New(apiserver.Config{
		Scheme:        resources.Scheme(),
		Resources:     catalog,
		Backend:       backend,
		Discovery:     documents.discovery,
		OpenAPI:       documents.openAPI,
		TypeConverter: typeConverter,
		Metrics:       apiMetrics,
		Strategies:    strategies,
		Table:         tableFunc,
		JoinToken:     joinToken,
		CAPEM:         bundle.CAPEM,
		Version:       kubeVersionInfo(v),
		Ready: func() error {
			if !isReady.Load() {
				return errors.New("bootstrapping built-in objects")
			}
			return nil
		},
		// Node agents trade the join token for certificates signed by the
		// CA; pods' tokens are signed by the service-account key.
		NodeCertSigner:    bundle,
		ServiceAccountKey: bundle.ServiceAccountKey,
		KubeletClient:     kubeletClient,
		NewCustomSchema:   newCustomSchema,
		OnCustomResources: documents.update,
		CustomTable:       customTable,
	})
	if err != nil {
		_ = listener.Close()
		return err
	}
	srv := &http.Server{
		Handler: api.Handler,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{bundle.ServingCert},
			ClientCAs:    bundle.CAPool(),
			ClientAuth:   tls.VerifyClientCertIfGiven,
			MinVersion:   tls.VersionTLS12,
		},
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	g, gctx := errgroup.WithContext(ctx)
	// The scheduler and controllers are the API server's clients: they
	// stop first (the scheduler releases its lease on the way out), then
	// the HTTPS server.
	var clients sync.WaitGroup
	g.Go(func() error {
		if err := srv.ServeTLS(listener, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve https: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		waitOrTimeout(shutdownCtx, &clients)
		_ = srv.Shutdown(shutdownCtx)
		return nil
	})
	g.Go(func() error { return api.Run(gctx) })
	g.Go(func() error {
		memtrim.ReleaseAfterBursts(gctx, memtrim.DefaultBurstPolicy)
		return nil
	})
	clients.Add(1) // the goroutine below, which becomes the controllers
	g.Go(func() error {
		defer clients.Done()
		if err := api.WaitForCaches(gctx); err != nil {
			return err
		}
		if err := syncAllocator(gctx, api.Stores, allocator); err != nil {
			logger.Error(err, "Stored services conflict in their addresses")
		}
		if err := bootstrap(gctx, api.Stores, advertiseAddress(opts.BindAddress), port); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		isReady.Store(true)
		logger.Info("tug server ready", "url", url, "startup", time.Since(start).Round(time.Millisecond), "dataDir", opts.DataDir)
		if ready != nil {
			ready(url)
		}
		// The controllers and the scheduler reach the API in memory, as
		// the admin certificate's identity.
		clientConfig := &rest.Config{
			Host:      url,
			UserAgent: "tug-controller-manager",
			Transport: loopback.Transport(api.Handler, filters.User{Name: pki.AdminUser, Groups: []string{pki.AdminGroup}}),
		}
		if !opts.DisableScheduler {
			clients.Add(1)
			g.Go(func() error {
				defer clients.Done()
				return runScheduler(gctx, clientConfig, api.Stores, identity, leading)
			})
		}
		if !opts.DisableAgent {
			node := opts.Agent
			node.Simulated = false
			node.Server, node.Token, node.DataDir = url, joinToken, opts.DataDir
			node.ClusterCIDR = opts.ClusterCIDR
			clients.Add(1)
			g.Go(func() error {
				defer clients.Done()
				return agent.Run(gctx, node)
			})
		}
		return runControllers(gctx, clientConfig, api.Stores, api.Custom, bundle.CAPEM, bundle.SignClientCert, catalog, opts.NodeMonitorGracePeriod, opts.ClusterCIDR, identity, leading)
	})
	return g.Wait()
}

// kubeletClientTLS is how the API server reaches kubelets: it trusts the
// cluster CA, which signs kubelets' serving certificates, and presents the
// admin certificate, which kubelets authorize.
func kubeletClientTLS(bundle *pki.Bundle) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(bundle.AdminCertPEM, bundle.AdminKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	return &tls.Config{RootCAs: bundle.CAPool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// waitOrTimeout waits for wg, or until ctx ends.
func waitOrTimeout(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// tableFunc adapts the tables package to the endpoints' signature.
func tableFunc(obj runtime.Object, noHeaders bool, include metav1.IncludeObjectPolicy, now time.Time) (*metav1.Table, error) {
	return tables.Convert(obj, tables.Options{NoHeaders: noHeaders, IncludeObject: include}, now)
}

// customTable shows custom resources with their version's printer columns.
func customTable(obj runtime.Object, columns []apiextensionsv1.CustomResourceColumnDefinition, noHeaders bool,
	include metav1.IncludeObjectPolicy, now time.Time) (*metav1.Table, error) {
	return tables.CustomResource(obj, columns, tables.Options{NoHeaders: noHeaders, IncludeObject: include}, now)
}

// serverHost is the address clients reach the server at: the bind address,
// or loopback when it binds every address.
func serverHost(bind string) string {
	if ip := net.ParseIP(bind); ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return bind
}

// kubeVersionInfo is /version as Kubernetes clients expect it.
func kubeVersionInfo(v tugversion.Info) version.Info {
	info := version.Info{
		GitVersion: v.KubernetesVersion, GitCommit: v.GitCommit, GitTreeState: "clean",
		GoVersion: v.GoVersion, Compiler: goruntime.Compiler, Platform: v.Platform,
	}
	if parts := strings.SplitN(strings.TrimPrefix(v.KubernetesVersion, "v"), ".", 3); len(parts) >= 2 {
		info.Major, info.Minor = parts[0], parts[1]
	}
	return info
}

// advertiseAddress is the address the kubernetes Service's endpoints
// point at: the bind address, or when binding every address the host's
// first non-loopback IPv4 address (loopback if it has none).
func advertiseAddress(bind string) string {
	if ip := net.ParseIP(bind); ip != nil && !ip.IsUnspecified() {
		return bind
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil && !ipnet.IP.IsLoopback() && !ipnet.IP.IsLinkLocalUnicast() {
				return ipnet.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
