// Package server is the kubelet's HTTPS API (port 10250): container logs,
// exec, attach and port-forward streams through the CRI runtime, the pods
// on the node, health and resource stats. The API server reaches it to
// serve pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy.
package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// DefaultPort is the kubelet API's port.
const DefaultPort = 10250

// mastersGroup is the only group the kubelet API serves: the API server
// calls with the admin certificate, which carries it.
const mastersGroup = "system:masters"

// Options configure the kubelet API server.
type Options struct {
	// BindAddress is the address to listen on. Default "0.0.0.0".
	BindAddress string
	// Port is the HTTPS port. Default DefaultPort (10250).
	Port int
	// Listener, if set, is served instead of listening on BindAddress:Port;
	// Start closes it. Default nil.
	Listener net.Listener
	// TLS holds the serving certificate and, as ClientCAs, the cluster CA.
	// Required. The server verifies client certificates against ClientCAs
	// and answers 401 to a caller without one and 403 to one outside
	// system:masters (it changes ClientAuth on its own copy so that those
	// callers get an HTTP answer rather than a failed handshake).
	TLS *tls.Config
	// Runtime is the CRI runtime service the streams and logs come from.
	// Required.
	Runtime runtimeapi.RuntimeServiceClient
	// Pods returns the pods bound to this node, for /pods and to tell which
	// pod a name means. Default: no pods.
	Pods func() []*corev1.Pod
	// NodeName names the node in /stats/summary. Default "".
	NodeName string
	// ProcRoot is where the node's /proc is read for node stats. Default
	// "/proc".
	ProcRoot string
	// LogPollInterval is how often a followed log is checked for growth.
	// Default 100ms.
	LogPollInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.BindAddress == "" {
		o.BindAddress = "0.0.0.0"
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Pods == nil {
		o.Pods = func() []*corev1.Pod { return nil }
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.LogPollInterval <= 0 {
		o.LogPollInterval = 100 * time.Millisecond
	}
	return o
}

// Validate reports options the server cannot run with.
func (o Options) Validate() error {
	switch {
	case o.TLS == nil:
		return errors.New("kubelet server: TLS config is required")
	case len(o.TLS.Certificates) == 0 && o.TLS.GetCertificate == nil:
		return errors.New("kubelet server: TLS config has no serving certificate")
	case o.TLS.ClientCAs == nil:
		return errors.New("kubelet server: TLS config has no ClientCAs to verify callers with")
	case o.Runtime == nil:
		return errors.New("kubelet server: CRI runtime client is required")
	case o.Port < 0 || o.Port > 65535:
		return fmt.Errorf("kubelet server: port %d out of range", o.Port)
	}
	return nil
}

// Server is the kubelet API.
type Server struct {
	opts    Options
	runtime runtimeapi.RuntimeServiceClient
	handler http.Handler
	stats   *rates

	// mu guards stopping; streams counts the stream handlers running.
	mu       sync.Mutex
	stopping bool
	streams  sync.WaitGroup
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts.withDefaults(), runtime: opts.Runtime, stats: newRates()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /pods", s.servePods)
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveContainerLogs)
	for _, path := range []string{"/exec/{namespace}/{pod}/{container}", "/exec/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(path, s.stream(s.serveExec))
	}
	for _, path := range []string{"/attach/{namespace}/{pod}/{container}", "/attach/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(path, s.stream(s.serveAttach))
	}
	for _, path := range []string{"/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(path, s.stream(s.servePortForward))
	}
	mux.HandleFunc("GET /stats/summary", s.serveSummary)
	mux.HandleFunc("GET /metrics/resource", s.serveResourceMetrics)
	s.handler = authorize(mux)
	return s, nil
}

// Handler serves the kubelet API; it expects requests that came over TLS
// with verified client certificates.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves HTTPS until ctx ends, then closes open connections
// (streams included) and returns.
func (s *Server) Start(ctx context.Context) error {
	listener := s.opts.Listener
	if listener == nil {
		var err error
		listener, err = net.Listen("tcp", net.JoinHostPort(s.opts.BindAddress, strconv.Itoa(s.opts.Port)))
		if err != nil {
			return fmt.Errorf("kubelet server listen: %w", err)
		}
	}
	tlsConfig := s.opts.TLS.Clone()
	tlsConfig.ClientAuth = tls.VerifyClientCertIfGiven
	if tlsConfig.MinVersion == 0 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	klog.FromContext(ctx).V(2).Info("Kubelet API serving", "address", listener.Addr().String())
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		// Streams hijack their connections, which Shutdown does not wait
		// for; Close ends the listener and every tracked connection, and
		// the streams end with ctx.
		_ = srv.Close()
	})
	err := srv.ServeTLS(listener, "", "")
	wg.Wait()
	// Close has ended the connections it tracks; the streams' hijacked
	// ones close with ctx (see stream).
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.streams.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("kubelet server: %w", err)
}

// authorize lets through only callers whose verified client certificate
// names system:masters among its organizations.
func authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			// Health is public, as for a probe of the node.
			next.ServeHTTP(w, r)
			return
		}
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			writeStatus(w, unauthorized())
			return
		}
		cert := r.TLS.VerifiedChains[0][0]
		if !slices.Contains(cert.Subject.Organization, mastersGroup) {
			writeStatus(w, forbidden(cert.Subject.CommonName, r))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// servePods answers the pods bound to this node as a v1 PodList.
func (s *Server) servePods(w http.ResponseWriter, _ *http.Request) {
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	for _, p := range s.opts.Pods() {
		pod := p.DeepCopy()
		pod.Kind, pod.APIVersion = "Pod", "v1"
		list.Items = append(list.Items, *pod)
	}
	writeJSON(w, http.StatusOK, list)
}

func writeJSON(w http.ResponseWriter, code int, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		writeStatus(w, internalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// stream runs a streaming handler (exec, attach, port-forward) so that
// Start waits for it, and the connection it hijacks is closed when the
// request's context ends: when the server stops, or once the handler
// returned.
func (s *Server) stream(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			writeStatus(w, serviceUnavailable("the kubelet is stopping"))
			return
		}
		s.streams.Add(1)
		s.mu.Unlock()
		defer s.streams.Done()
		h(&closeOnDone{ResponseWriter: w, ctx: r.Context()}, r)
	}
}

// closeOnDone closes the connection its Hijack hands out when ctx ends.
type closeOnDone struct {
	http.ResponseWriter
	ctx context.Context
}

func (c *closeOnDone) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	context.AfterFunc(c.ctx, func() { _ = conn.Close() })
	return conn, rw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (c *closeOnDone) Unwrap() http.ResponseWriter { return c.ResponseWriter }
