package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func podAt(ip string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Status:     corev1.PodStatus{PodIP: ip},
	}
}

// hostPort splits a test server's address.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, n
}

// recorder remembers the requests a test HTTP server saw.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

func (r *recorder) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.reqs {
		out = append(out, req.URL.RequestURI())
	}
	return out
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func TestHTTP(t *testing.T) {
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { rec.add(r) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/notfound", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		http.NotFound(w, r)
	})
	mux.HandleFunc("/redirect-local", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/redirect-loop", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		http.Redirect(w, r, "/redirect-loop", http.StatusFound)
	})
	mux.HandleFunc("/redirect-away", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		// Another host name for this same loopback server: were it
		// followed, the probe would reach /away.
		u := *r.URL
		u.Scheme, u.Host, u.Path = "http", "localhost:"+strings.Split(r.Host, ":")[1], "/away"
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { rec.add(r) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	pod := podAt(host)
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}

	tests := []struct {
		name        string
		action      corev1.HTTPGetAction
		want        Result
		wantMessage string
		wantPaths   []string
	}{
		{name: "200", action: corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(port)}, want: Success, wantPaths: []string{"/ok"}},
		{name: "named port and query", action: corev1.HTTPGetAction{Path: "/ok?x=1", Port: intstr.FromString("http")}, want: Success, wantPaths: []string{"/ok?x=1"}},
		{name: "path without slash", action: corev1.HTTPGetAction{Path: "ok", Port: intstr.FromInt(port)}, want: Success, wantPaths: []string{"/ok"}},
		{name: "500", action: corev1.HTTPGetAction{Path: "/fail", Port: intstr.FromInt(port)}, want: Failure, wantMessage: "HTTP probe failed with statuscode: 500", wantPaths: []string{"/fail"}},
		{name: "404", action: corev1.HTTPGetAction{Path: "/notfound", Port: intstr.FromInt(port)}, want: Failure, wantMessage: "HTTP probe failed with statuscode: 404", wantPaths: []string{"/notfound"}},
		{name: "same-host redirect followed", action: corev1.HTTPGetAction{Path: "/redirect-local", Port: intstr.FromInt(port)}, want: Success, wantPaths: []string{"/redirect-local", "/ok"}},
		{name: "other-host redirect not followed", action: corev1.HTTPGetAction{Path: "/redirect-away", Port: intstr.FromInt(port)}, want: Success, wantMessage: "Probe terminated redirects", wantPaths: []string{"/redirect-away"}},
		{name: "redirect loop", action: corev1.HTTPGetAction{Path: "/redirect-loop", Port: intstr.FromInt(port)}, want: Failure, wantMessage: "stopped after 10 redirects"},
		{name: "timeout", action: corev1.HTTPGetAction{Path: "/slow", Port: intstr.FromInt(port)}, want: Failure, wantMessage: "deadline exceeded", wantPaths: []string{"/slow"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.paths())
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &tc.action}, TimeoutSeconds: 1}
			got, msg, err := Run(context.Background(), p, pod, c, "cid", nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got != tc.want {
				t.Errorf("result = %v (%s), want %v", got, msg, tc.want)
			}
			if !strings.Contains(msg, tc.wantMessage) || (tc.wantMessage == "" && msg != "") {
				t.Errorf("message = %q, want it to contain %q", msg, tc.wantMessage)
			}
			if tc.wantPaths != nil {
				if paths := rec.paths()[before:]; strings.Join(paths, " ") != strings.Join(tc.wantPaths, " ") {
					t.Errorf("server saw %v, want %v", paths, tc.wantPaths)
				}
			}
		})
	}
	for _, p := range rec.paths() {
		if p == "/away" {
			t.Errorf("a redirect to another host was followed")
		}
	}
}

func TestHTTPHeaders(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(r) }))
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	run := func(headers ...corev1.HTTPHeader) *http.Request {
		t.Helper()
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/", Port: intstr.FromInt(port), HTTPHeaders: headers,
		}}}
		if got, msg, err := Run(context.Background(), p, podAt(host), &corev1.Container{}, "", nil); got != Success || err != nil {
			t.Fatalf("Run = %v, %q, %v", got, msg, err)
		}
		return rec.last()
	}

	req := run()
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "kube-probe/1.") || strings.Count(ua, ".") != 1 {
		t.Errorf("default User-Agent = %q, want kube-probe/<major.minor>", ua)
	}
	if got := req.Header.Get("Accept"); got != "*/*" {
		t.Errorf("default Accept = %q, want */*", got)
	}
	if got := req.Header.Get("Connection"); got != "close" {
		t.Errorf("Connection = %q, want close (no keep-alive)", got)
	}

	req = run(corev1.HTTPHeader{Name: "X-Custom", Value: "a"}, corev1.HTTPHeader{Name: "X-Custom", Value: "b"},
		corev1.HTTPHeader{Name: "User-Agent", Value: "mine"}, corev1.HTTPHeader{Name: "Host", Value: "example.test"},
		corev1.HTTPHeader{Name: "accept", Value: "text/plain"})
	if got := req.Header.Values("X-Custom"); strings.Join(got, ",") != "a,b" {
		t.Errorf("X-Custom = %v, want [a b]", got)
	}
	if got := req.Header.Get("User-Agent"); got != "mine" {
		t.Errorf("User-Agent = %q, want the probe's", got)
	}
	if got := req.Header.Values("Accept"); strings.Join(got, ",") != "text/plain" {
		t.Errorf("Accept = %v, want only the probe's", got)
	}
	if req.Host != "example.test" {
		t.Errorf("Host = %q, want example.test", req.Host)
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt(port), Scheme: corev1.URISchemeHTTPS}}}
	if got, msg, err := Run(context.Background(), p, podAt(host), &corev1.Container{}, "", nil); got != Success || err != nil {
		t.Errorf("HTTPS probe of a self-signed server = %v, %q, %v; want success", got, msg, err)
	}
	// Plain HTTP to a TLS port fails: the scheme is honored.
	p.HTTPGet.Scheme = corev1.URISchemeHTTP
	if got, msg, _ := Run(context.Background(), p, podAt(host), &corev1.Container{}, "", nil); got != Failure {
		t.Errorf("HTTP probe of a TLS server = %v, %q; want failure", got, msg)
	}
}

func TestTargetErrors(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		p    *corev1.Probe
	}{
		{name: "no pod IP", pod: podAt(""), p: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(80)}}}},
		{name: "unknown named port", pod: podAt("127.0.0.1"), p: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("web")}}}},
		{name: "port out of range", pod: podAt("127.0.0.1"), p: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 70000}}}},
		{name: "no handler", pod: podAt("127.0.0.1"), p: &corev1.Probe{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := Run(context.Background(), tc.p, tc.pod, &corev1.Container{}, "", nil)
			if got != Unknown || err == nil {
				t.Errorf("Run = %v, %v; want Unknown and an error", got, err)
			}
		})
	}
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, ln.Addr().String())
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("tcp")}}}
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "tcp", ContainerPort: int32(port)}}}
	if got, msg, err := Run(context.Background(), p, podAt(host), c, "", nil); got != Success || err != nil {
		t.Errorf("TCP probe of a listener = %v, %q, %v; want success", got, msg, err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	got, msg, err := Run(context.Background(), p, podAt(host), c, "", nil)
	if got != Failure || err != nil || !strings.Contains(msg, "refused") {
		t.Errorf("TCP probe of a closed port = %v, %q, %v; want failure, connection refused", got, msg, err)
	}
	// An explicit host wins over the pod IP.
	p.TCPSocket.Host = host
	if got, _, _ := Run(context.Background(), p, podAt("127.0.0.1"), c, "", nil); got != Failure {
		t.Errorf("TCP probe with host = %v; want failure (port closed)", got)
	}
}

func TestGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	host, port := hostPort(t, ln.Addr().String())

	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	noHealth := grpc.NewServer()
	go func() { _ = noHealth.Serve(bare) }()
	defer noHealth.Stop()
	_, barePort := hostPort(t, bare.Addr().String())

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort := hostPort(t, closed.Addr().String())
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	svc := func(s string) *string { return &s }
	tests := []struct {
		name        string
		action      corev1.GRPCAction
		want        Result
		wantMessage string
	}{
		{name: "serving", action: corev1.GRPCAction{Port: int32(port)}, want: Success},
		{name: "not serving", action: corev1.GRPCAction{Port: int32(port), Service: svc("db")}, want: Failure, wantMessage: "NOT_SERVING"},
		{name: "unknown service", action: corev1.GRPCAction{Port: int32(port), Service: svc("nope")}, want: Failure, wantMessage: "health rpc probe failed"},
		{name: "no health service", action: corev1.GRPCAction{Port: int32(barePort)}, want: Failure, wantMessage: "does not implement the grpc health protocol"},
		{name: "nothing listening", action: corev1.GRPCAction{Port: int32(closedPort)}, want: Failure, wantMessage: "failed to connect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &tc.action}, TimeoutSeconds: 5}
			got, msg, err := Run(context.Background(), p, podAt(host), &corev1.Container{}, "", nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got != tc.want || !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("Run = %v, %q; want %v with %q", got, msg, tc.want, tc.wantMessage)
			}
		})
	}
}

func TestExec(t *testing.T) {
	type call struct {
		id      string
		cmd     string
		timeout time.Duration
	}
	var calls []call
	exec := func(code int32, out string, err error) ExecFunc {
		return func(_ context.Context, id string, cmd []string, timeout time.Duration) ([]byte, int32, error) {
			calls = append(calls, call{id, strings.Join(cmd, " "), timeout})
			return []byte(out), code, err
		}
	}
	tests := []struct {
		name        string
		exec        ExecFunc
		want        Result
		wantMessage string
		wantErr     bool
	}{
		{name: "exit 0", exec: exec(0, "fine", nil), want: Success},
		{name: "exit 1 with output", exec: exec(1, "database down", nil), want: Failure, wantMessage: "database down"},
		{name: "exit 2 silent", exec: exec(2, "", nil), want: Failure, wantMessage: `command "cat /tmp/healthy" exited with 2`},
		{name: "timeout", exec: exec(0, "", fmt.Errorf("exec: %w", context.DeadlineExceeded)), want: Failure, wantMessage: "timed out"},
		{name: "runtime error", exec: exec(0, "", errors.New("container not found")), want: Unknown, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}, TimeoutSeconds: 7}
			got, msg, err := Run(context.Background(), p, podAt(""), &corev1.Container{}, "cid-9", tc.exec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run error = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want || !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("Run = %v, %q; want %v with %q", got, msg, tc.want, tc.wantMessage)
			}
			want := call{"cid-9", "cat /tmp/healthy", 7 * time.Second}
			if len(calls) != 1 || calls[0] != want {
				t.Errorf("exec calls = %+v, want [%+v]", calls, want)
			}
		})
	}
}

func TestExecOutputBounded(t *testing.T) {
	big := strings.Repeat("x", 3*maxOutput)
	exec := func(context.Context, string, []string, time.Duration) ([]byte, int32, error) {
		return []byte(big), 1, nil
	}
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}}
	_, msg, _ := Run(context.Background(), p, podAt(""), &corev1.Container{}, "", exec)
	if len(msg) != maxOutput {
		t.Errorf("message length = %d, want %d", len(msg), maxOutput)
	}
}

func TestProbeURL(t *testing.T) {
	tests := []struct {
		scheme corev1.URIScheme
		host   string
		path   string
		want   string
	}{
		{"", "10.0.0.1", "", "http://10.0.0.1:80/"},
		{"HTTPS", "10.0.0.1", "/healthz", "https://10.0.0.1:80/healthz"},
		{"HTTP", "fd00::1", "/a?b=c", "http://[fd00::1]:80/a?b=c"},
		{"HTTP", "10.0.0.1", "a b", "http://10.0.0.1:80/a%20b"},
	}
	for _, tc := range tests {
		if got := probeURL(tc.scheme, tc.host, 80, tc.path).String(); got != tc.want {
			t.Errorf("probeURL(%q, %q, %q) = %q, want %q", tc.scheme, tc.host, tc.path, got, tc.want)
		}
	}
}
