package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// server is a `tug server` child process.
type server struct {
	// dataDir is the server's --data-dir.
	dataDir string
	// kubeconfig is the admin kubeconfig the server wrote.
	kubeconfig string
	// url is the API server's address, https://127.0.0.1:port.
	url string
	// log holds the server's stdout and stderr.
	log string
}

// errPortTaken means another process bound the chosen port between our
// probe and the server's listen.
var errPortTaken = errors.New("port taken")

// startServer runs the built tug binary on a free loopback port with a
// temporary data directory, waits until /readyz answers ok and stops the
// process (by PID) when the test ends. extra flags are appended to the
// command line.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	recordSources(t)
	for attempt := 1; ; attempt++ {
		s, err := tryStartServer(t, extra)
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			t.Fatalf("start tug server: %v", err)
		}
	}
}

func tryStartServer(t *testing.T, extra []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	s := &server{
		dataDir:    filepath.Join(dir, "data"),
		kubeconfig: filepath.Join(dir, "data", "kubeconfig.yaml"),
		url:        "https://127.0.0.1:" + strconv.Itoa(port),
		log:        filepath.Join(dir, "server.log"),
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	args := append([]string{"server",
		"--data-dir", s.dataDir,
		"--https-port", strconv.Itoa(port),
		"--bind-address", "127.0.0.1",
		"--disable-agent"}, extra...)
	cmd := exec.Command(tugBinary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tugBinary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid

	if err := s.waitReady(exited, 60*time.Second); err != nil {
		_ = stopProcess(t, pid, exited) // the readiness error says more
		return nil, err
	}
	t.Logf("tug server pid %d ready at %s after %v", pid, s.url, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := stopProcess(t, pid, exited); err != nil {
			t.Errorf("tug server: %v", err)
		}
		if t.Failed() {
			t.Logf("tail of the tug server log:\n%s", tail(s.log, 40))
		}
	})
	return s, nil
}

// waitReady polls /readyz with the admin credentials from the data
// directory until it answers 200 "ok".
func (s *server) waitReady(exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log := tail(s.log, 20)
			if strings.Contains(log, "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("exited before ready (%w):\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		body, err := s.readyz()
		if err == nil && body == "ok" {
			return nil
		}
		last = fmt.Sprintf("%q %v", body, err)
	}
	return fmt.Errorf("/readyz not ok within %v, last: %s\n%s", timeout, last, tail(s.log, 20))
}

func (s *server) readyz() (string, error) {
	if _, err := os.Stat(s.kubeconfig); err != nil {
		return "", err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return "", err
	}
	if cfg.Host != s.url {
		return "", fmt.Errorf("kubeconfig names server %s, want %s", cfg.Host, s.url)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	client.Timeout = 2 * time.Second
	resp, err := client.Get(s.url + "/readyz")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("status %s", resp.Status)
	}
	return string(body), nil
}

// stopProcess sends SIGTERM to pid and waits for it to exit, killing it
// after 10s. It reports an exit other than a clean one.
func stopProcess(t *testing.T, pid int, exited <-chan error) error {
	proc, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Logf("SIGTERM to pid %d: %v", pid, err)
	}
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("exit after SIGTERM: %w", err)
		}
		return nil
	case <-time.After(10 * time.Second):
		_ = proc.Kill()
		if err := <-exited; err != nil {
			t.Logf("killed pid %d: %v", pid, err)
		}
		return fmt.Errorf("pid %d still running 10s after SIGTERM; killed", pid)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
