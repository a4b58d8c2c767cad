// Package testutil starts real tug servers for tests and finds the real
// kubectl binaries on the machine.
package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/internal/server"
)

// Server is a running tug server.
type Server struct {
	URL        string
	DataDir    string
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
}

// StartServer runs tug server in-process on a free loopback port with a
// temporary data directory, waits until it is ready and stops it when the
// test ends. Each option may change the server's Options (the data
// directory, address and port are set by StartServer).
func StartServer(t testing.TB, options ...func(*server.Options)) *Server {
	t.Helper()
	dir := t.TempDir()
	opts := server.Options{DataDir: dir, BindAddress: "127.0.0.1", HTTPSPort: 0, DisableAgent: true}
	for _, o := range options {
		o(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, opts,
			func(url string) { ready <- url })
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("tug server exited before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("tug server not ready within 60s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tug server: %v", err)
		}
	})
	kubeconfig := filepath.Join(dir, "kubeconfig.yaml")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &Server{URL: url, DataDir: dir, Kubeconfig: kubeconfig, Config: cfg, Client: client}
}

// Kubectl returns the path of kubectl for a minor version (e.g. "1.33"),
// found next to the kubectl on PATH. The test fails if it is missing: CI
// machines have them all.
func Kubectl(t testing.TB, minor string) string {
	t.Helper()
	onPath, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not on PATH: %v", err)
	}
	resolved, err := filepath.EvalSymlinks(onPath)
	if err != nil {
		t.Fatalf("resolve kubectl: %v", err)
	}
	path := filepath.Join(filepath.Dir(resolved), "kubectl."+minor)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("kubectl %s not found at %s: %v", minor, path, err)
	}
	return path
}

// RunKubectl runs kubectl against s and returns its combined output.
func (s *Server) RunKubectl(t testing.TB, kubectl string, stdin string, args ...string) (string, error) {
	t.Helper()
	out, err := s.kubectlCommand(kubectl, stdin, args).CombinedOutput()
	return string(out), err
}

// RunKubectlStdout runs kubectl against s and returns its standard output
// alone, for commands whose output is compared exactly while client-go may
// log to standard error; the error carries standard error.
func (s *Server) RunKubectlStdout(t testing.TB, kubectl string, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := s.kubectlCommand(kubectl, stdin, args)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), err
}

func (s *Server) kubectlCommand(kubectl string, stdin string, args []string) *exec.Cmd {
	cmd := exec.Command(kubectl, append([]string{"--kubeconfig", s.Kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig, "HOME="+s.DataDir)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return cmd
}
