// Package etcdtest starts a real etcd server on loopback for tests and
// benchmarks, in a data directory of the caller's choosing.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DefaultBinary is where Debian's etcd-server package installs etcd.
const DefaultBinary = "/usr/bin/etcd"

// Options configures Start.
type Options struct {
	// Binary is the etcd executable. Default DefaultBinary.
	Binary string
	// Dir is the data directory; created if missing. Required. The server's
	// log is written to Dir/etcd.log.
	Dir string
	// StartTimeout bounds how long Start waits for the server to answer.
	// Default 30s.
	StartTimeout time.Duration
	// ExtraArgs are appended to the etcd command line.
	ExtraArgs []string
}

// Server is a running etcd process listening on 127.0.0.1.
type Server struct {
	// Endpoint is the client URL, http://127.0.0.1:PORT.
	Endpoint string
	// PID is the etcd process id.
	PID int

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// Start runs etcd on two free loopback ports and returns once it serves
// requests. The caller must call Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Binary == "" {
		opts.Binary = DefaultBinary
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.Dir == "" {
		return nil, errors.New("etcdtest: Dir is required")
	}
	var lastErr error
	// A free port can be taken between probing and binding; retry then.
	for range 3 {
		s, err := start(ctx, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, opts Options) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	dataDir := filepath.Join(opts.Dir, "data")
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, fmt.Errorf("clear etcd data dir: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create etcd dir: %w", err)
	}
	logPath := filepath.Join(opts.Dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create etcd log: %w", err)
	}
	defer func() { _ = logFile.Close() }()

	args := []string{
		"--name", "tugtest",
		"--data-dir", dataDir,
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "tugtest=" + peerURL,
		"--initial-cluster-state", "new",
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
	args = append(args, opts.ExtraArgs...)
	// Not CommandContext: the process must outlive ctx, which only bounds
	// the start.
	cmd := exec.Command(opts.Binary, args...) //nolint:gosec // test helper, binary chosen by the caller
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Binary, err)
	}
	s := &Server{Endpoint: clientURL, PID: cmd.Process.Pid, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		_ = s.Stop() // the start error says why
		return nil, err
	}
	return s, nil
}

// waitReady polls the server until a read succeeds or the process exits.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Wait for the port first: a client whose first dial is refused backs
	// off for a second before it tries again.
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-s.exited:
			return fmt.Errorf("etcd exited during start (%w): %s", s.exitError(), s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("etcd not listening after %v: %w: %s", timeout, err, s.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cli, err := s.Client()
	if err != nil {
		return err
	}
	defer func() { _ = cli.Close() }()
	for {
		reqCtx, reqCancel := context.WithTimeout(ctx, time.Second)
		_, err := cli.Get(reqCtx, "health", clientv3.WithCountOnly())
		reqCancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("etcd exited during start (%w): %s", s.exitError(), s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("etcd not ready after %v: %w: %s", timeout, err, s.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Client returns a new client for the server; the caller closes it.
func (s *Server) Client() (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{s.Endpoint},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client for %s: %w", s.Endpoint, err)
	}
	return cli, nil
}

// Stop terminates the server, killing it if it does not exit within 10s,
// and waits for it to exit. It fails if the server had already died.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("etcd exited before Stop (%w): %s", s.exitError(), s.logTail())
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}

// exitError is how the process ended; call it only after exited is closed.
func (s *Server) exitError() error {
	if s.waitErr == nil {
		return errors.New("exit status 0")
	}
	return s.waitErr
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
