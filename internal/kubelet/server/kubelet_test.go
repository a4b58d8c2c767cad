package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/tugcluster/tug/internal/kubelet/server"
	"github.com/tugcluster/tug/internal/pki"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

// TestKubeletServer runs real containers in a private containerd and drives
// the kubelet API with client-go's clients, SPDY and websocket.
func TestKubeletServer(t *testing.T) {
	rt := containerdtest.Start(t)
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "tls")})
	if err != nil {
		t.Fatal(err)
	}
	apiPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "default", UID: "uid-1"}}
	env := startKubelet(t, rt, bundle, func() []*corev1.Pod { return []*corev1.Pod{apiPod} })
	pod := runPod(t, rt, "default", "p1", "uid-1")

	pod.start(t, rt, containerSpec{name: "shell", command: []string{"sleep", "100000"}})
	first := pod.start(t, rt, containerSpec{name: "printer", command: []string{"sh", "-c", "echo one; echo two; echo three"}})
	waitExited(t, rt, first)
	second := pod.start(t, rt, containerSpec{name: "printer", attempt: 1, command: []string{"sh", "-c", "echo again"}})
	waitExited(t, rt, second)
	trigger := t.TempDir()
	pod.start(t, rt, containerSpec{
		name:    "waiter",
		command: []string{"sh", "-c", "echo start; while [ ! -e /trigger/go ]; do sleep 0.05; done; echo end"},
		mounts:  []*runtimeapi.Mount{{ContainerPath: "/trigger", HostPath: trigger}},
	})
	pod.start(t, rt, containerSpec{name: "attacher", stdin: true, command: []string{"sh", "-c", "while read l; do echo got:$l; done"}})
	webPort := startWeb(t, rt, pod)

	t.Run("auth", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		nodeCertPEM, err := bundle.SignClientCert("system:node:n1", []string{"system:nodes"}, key.Public(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		nodeCert := tlsCert(t, nodeCertPEM, key)
		tests := []struct {
			name   string
			client *http.Client
			path   string
			want   int
		}{
			{"no certificate", env.client(nil), "/pods", http.StatusUnauthorized},
			{"not system:masters", env.client(&nodeCert), "/pods", http.StatusForbidden},
			{"admin", env.adminClient(t), "/pods", http.StatusOK},
			{"health is public", env.client(nil), "/healthz", http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, err := tt.client.Get("https://" + env.addr + tt.path)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
				}
			})
		}
	})

	t.Run("pods", func(t *testing.T) {
		code, body := env.get(t, "/pods")
		var list corev1.PodList
		if err := json.Unmarshal([]byte(body), &list); err != nil || code != http.StatusOK {
			t.Fatalf("status %d, body %s: %v", code, body, err)
		}
		if len(list.Items) != 1 || list.Items[0].Name != "p1" || list.Kind != "PodList" {
			t.Errorf("pods = %+v", list)
		}
	})

	for _, transport := range []string{"spdy", "websocket"} {
		t.Run("exec/"+transport, func(t *testing.T) {
			stdout, stderr, err := env.stream(t, transport, "exec", "shell",
				url.Values{"command": {"sh", "-c", "echo out; echo err >&2; exit 3"}, "output": {"1"}, "error": {"1"}},
				remotecommand.StreamOptions{})
			var exitErr utilexec.CodeExitError
			if !errors.As(err, &exitErr) || exitErr.Code != 3 {
				t.Errorf("err = %v, want exit code 3", err)
			}
			if stdout != "out\n" || stderr != "err\n" {
				t.Errorf("stdout %q, stderr %q", stdout, stderr)
			}
		})
		t.Run("exec stdin/"+transport, func(t *testing.T) {
			stdout, _, err := env.stream(t, transport, "exec", "shell",
				url.Values{"command": {"cat"}, "input": {"1"}, "output": {"1"}},
				remotecommand.StreamOptions{Stdin: strings.NewReader("hello via stdin\n")})
			if err != nil || stdout != "hello via stdin\n" {
				t.Errorf("stdout %q, err %v", stdout, err)
			}
		})
		t.Run("exec tty resize/"+transport, func(t *testing.T) {
			sizes := make(chan remotecommand.TerminalSize, 1)
			sizes <- remotecommand.TerminalSize{Width: 100, Height: 40}
			queue := &testSizeQueue{sizes: sizes}
			defer queue.close()
			// Waits until the terminal has the size sent; without resizes
			// it would never print.
			stdout, _, err := env.stream(t, transport, "exec", "shell",
				url.Values{"command": {"sh", "-c", `while [ "$(stty size)" != "40 100" ]; do sleep 0.05; done; echo sized`},
					"output": {"1"}, "tty": {"1"}},
				remotecommand.StreamOptions{Tty: true, TerminalSizeQueue: queue})
			if err != nil || !strings.Contains(stdout, "sized") {
				t.Errorf("stdout %q, err %v", stdout, err)
			}
		})
		t.Run("attach/"+transport, func(t *testing.T) {
			env.attach(t, transport, "hello-"+transport)
		})
		t.Run("port-forward/"+transport, func(t *testing.T) {
			u := env.url("/portForward/default/p1", nil)
			var dialer httpstream.Dialer
			if transport == "spdy" {
				rt, upgrader, err := spdy.RoundTripperFor(env.admin)
				if err != nil {
					t.Fatal(err)
				}
				dialer = spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
			} else {
				dialer, err = portforward.NewSPDYOverWebsocketDialerForStreaming(u, env.admin)
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := forwardGet(t, dialer, webPort); got != "hello from httpd\n" {
				t.Errorf("body through the forwarded port = %q", got)
			}
		})
	}

	t.Run("exec errors", func(t *testing.T) {
		tests := []struct {
			name string
			path string
			want int
		}{
			{"no such container", "/exec/default/p1/none?command=true&output=1", http.StatusNotFound},
			{"no such pod", "/exec/default/p2/shell?command=true&output=1", http.StatusNotFound},
			{"no command", "/exec/default/p1/shell?output=1", http.StatusBadRequest},
			{"no streams", "/exec/default/p1/shell?command=true", http.StatusBadRequest},
			{"not an upgrade", "/exec/default/p1/shell?command=true&output=1", http.StatusBadRequest},
			{"port-forward to no pod", "/portForward/default/p2", http.StatusNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if code, body := env.get(t, tt.path); code != tt.want {
					t.Errorf("status %d, want %d: %s", code, tt.want, body)
				}
			})
		}
	})

	t.Run("logs", func(t *testing.T) {
		tests := []struct {
			name  string
			path  string
			code  int
			want  string
			check func(t *testing.T, body string)
		}{
			{name: "current", path: "/containerLogs/default/p1/printer", code: 200, want: "again\n"},
			{name: "previous", path: "/containerLogs/default/p1/printer?previous=true", code: 200, want: "one\ntwo\nthree\n"},
			{name: "tail", path: "/containerLogs/default/p1/printer?previous=true&tailLines=2", code: 200, want: "two\nthree\n"},
			{name: "limit", path: "/containerLogs/default/p1/printer?previous=true&limitBytes=6", code: 200, want: "one\ntw"},
			{name: "since the future", path: "/containerLogs/default/p1/printer?sinceTime=2999-01-01T00:00:00Z", code: 200, want: ""},
			{name: "timestamps", path: "/containerLogs/default/p1/printer?timestamps=true", code: 200, check: func(t *testing.T, body string) {
				ts, text, ok := strings.Cut(body, " ")
				if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !ok || text != "again\n" {
					t.Errorf("body %q is not a timestamped line", body)
				}
			}},
			{name: "uid in pod list is used", path: "/containerLogs/default/p1/printer?tailLines=1", code: 200, want: "again\n"},
			{name: "no previous", path: "/containerLogs/default/p1/shell?previous=true", code: 400},
			{name: "no such container", path: "/containerLogs/default/p1/none", code: 404},
			{name: "bad tail", path: "/containerLogs/default/p1/printer?tailLines=-1", code: 400},
			{name: "both since", path: "/containerLogs/default/p1/printer?sinceSeconds=1&sinceTime=2020-01-01T00:00:00Z", code: 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, body := env.get(t, tt.path)
				if code != tt.code {
					t.Fatalf("status %d, want %d: %s", code, tt.code, body)
				}
				if code != http.StatusOK {
					var status metav1.Status
					if err := json.Unmarshal([]byte(body), &status); err != nil || status.Kind != "Status" || status.Message == "" {
						t.Errorf("error body %q is not a Status: %v", body, err)
					}
					return
				}
				if tt.check != nil {
					tt.check(t, body)
				} else if body != tt.want {
					t.Errorf("body %q, want %q", body, tt.want)
				}
			})
		}
	})

	t.Run("logs follow", func(t *testing.T) {
		resp, err := env.adminClient(t).Get("https://" + env.addr + "/containerLogs/default/p1/waiter?follow=true")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != "start\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		if err := os.WriteFile(filepath.Join(trigger, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		// The stream ends when the container exits, after its last line.
		rest, err := io.ReadAll(br)
		if err != nil || string(rest) != "end\n" {
			t.Errorf("rest %q, %v", rest, err)
		}
	})

	t.Run("stats", func(t *testing.T) {
		code, body := env.get(t, "/stats/summary")
		var summary server.Summary
		if err := json.Unmarshal([]byte(body), &summary); err != nil || code != http.StatusOK {
			t.Fatalf("status %d, body %s: %v", code, body, err)
		}
		node := summary.Node
		if node.NodeName != "n1" || node.CPU == nil || *node.CPU.UsageCoreNanoSeconds == 0 ||
			node.Memory == nil || *node.Memory.WorkingSetBytes == 0 || node.StartTime.IsZero() {
			t.Errorf("node stats %s", body)
		}
		var shell *server.ContainerStats
		for _, p := range summary.Pods {
			if p.PodRef != (server.PodReference{Name: "p1", Namespace: "default", UID: "uid-1"}) {
				continue
			}
			for i := range p.Containers {
				if p.Containers[i].Name == "shell" {
					shell = &p.Containers[i]
				}
			}
		}
		if shell == nil || shell.CPU == nil || shell.CPU.UsageCoreNanoSeconds == nil || shell.Memory == nil ||
			shell.Memory.WorkingSetBytes == nil || *shell.Memory.WorkingSetBytes == 0 {
			t.Errorf("no CPU and memory for container shell of p1 in %s", body)
		}
		code, body = env.get(t, "/metrics/resource")
		for _, want := range []string{
			`container_memory_working_set_bytes{container="shell",namespace="default",pod="p1"} `,
			"node_cpu_usage_seconds_total ", "scrape_error 0",
		} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("metrics (status %d) lack %q:\n%s", code, want, body)
			}
		}
	})
}

// startWeb runs busybox httpd in the pod on a free loopback port of the
// node (the pod uses the node's network) and returns the port.
func startWeb(t *testing.T, rt *containerdtest.Runtime, pod *testPod) int {
	t.Helper()
	www := t.TempDir()
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte("hello from httpd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	pod.start(t, rt, containerSpec{
		name:    "web",
		command: []string{"httpd", "-f", "-p", "127.0.0.1:" + strconv.Itoa(port), "-h", "/www"},
		mounts:  []*runtimeapi.Mount{{ContainerPath: "/www", HostPath: www, Readonly: true}},
	})
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	return port
}

func (e *kubeletEnv) url(path string, q url.Values) *url.URL {
	return &url.URL{Scheme: "https", Host: e.addr, Path: path, RawQuery: q.Encode()}
}

// get answers a GET with the admin certificate: status and body.
func (e *kubeletEnv) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := e.adminClient(t).Get("https://" + e.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// executor is client-go's remote command client over transport.
func executor(t *testing.T, config *rest.Config, transport string, u *url.URL) remotecommand.Executor {
	t.Helper()
	var ex remotecommand.Executor
	var err error
	if transport == "spdy" {
		ex, err = remotecommand.NewSPDYExecutor(config, http.MethodPost, u)
	} else {
		ex, err = remotecommand.NewWebSocketExecutor(config, http.MethodGet, u.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// stream runs an exec or attach session to the container of p1.
func (e *kubeletEnv) stream(t *testing.T, transport, kind, container string, q url.Values, opts remotecommand.StreamOptions) (string, string, error) {
	t.Helper()
	ex := executor(t, e.admin, transport, e.url("/"+kind+"/default/p1/"+container, q))
	var stdout, stderr bytes.Buffer
	if q.Get("output") != "" {
		opts.Stdout = &stdout
	}
	if q.Get("error") != "" {
		opts.Stderr = &stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := ex.StreamWithContext(ctx, opts)
	return stdout.String(), stderr.String(), err
}

// attach sends a line to the attacher container's stdin, waits for its
// echo and detaches.
func (e *kubeletEnv) attach(t *testing.T, transport, line string) {
	t.Helper()
	ex := executor(t, e.admin, transport, e.url("/attach/default/p1/attacher", url.Values{"input": {"1"}, "output": {"1"}, "error": {"1"}}))
	stdinR, stdinW := io.Pipe()
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdinR, Stdout: out, Stderr: out})
	}()
	go func() { _, _ = stdinW.Write([]byte(line + "\n")) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "got:"+line) {
		if time.Now().After(deadline) {
			t.Fatalf("attached output %q lacks the echo of %q", out.String(), line)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	_ = stdinW.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("attach ended without error, want the context's")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("attach did not end after its context")
	}
}

// forwardGet forwards a local port to remotePort over dialer and returns
// the body of a GET through it.
func forwardGet(t *testing.T, dialer httpstream.Dialer, remotePort int) string {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	var errOut syncBuffer
	fw, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(remotePort)}, stop, ready, io.Discard, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	defer func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("ForwardPorts: %v", err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("ForwardPorts: %v (%s)", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("port-forward not ready")
	}
	ports, err := fw.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[0].Local))
	if err != nil {
		t.Fatalf("GET through the forwarded port: %v (%s)", err, errOut.String())
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

type testSizeQueue struct {
	sizes chan remotecommand.TerminalSize
	once  sync.Once
}

func (q *testSizeQueue) Next() *remotecommand.TerminalSize {
	size, ok := <-q.sizes
	if !ok {
		return nil
	}
	return &size
}

func (q *testSizeQueue) close() { q.once.Do(func() { close(q.sizes) }) }

// syncBuffer is written by a stream and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
