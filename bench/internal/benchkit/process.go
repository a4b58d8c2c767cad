package benchkit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tugcluster/tug/internal/version"
)

// Process is a server the harness started and must stop.
type Process struct {
	Name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // exit status, once done is closed
}

// StartProcess runs bin with args, its output going to logPath. The child
// is killed if the harness dies first.
func StartProcess(name, bin string, args []string, logPath string) (*Process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.log.Name() }

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited returns an error if the process has already ended.
func (p *Process) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %w; see %s", p.Name, p.err, p.log.Name())
	default:
		return nil
	}
}

// stopGrace is how long a stopped process may take to exit before it is
// killed. kube-apiserver drains for much longer by default; nothing here
// needs its data once measured.
const stopGrace = 3 * time.Second

// Stop sends SIGTERM, then SIGKILL after stopGrace, and waits for the exit.
// Only this process is signaled, by its PID.
func (p *Process) Stop() error {
	defer func() { _ = p.log.Close() }()
	if p.Exited() != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// pollClient probes health endpoints without credentials: /readyz is
// public on both servers, and certificates are not the point.
var pollClient = &http.Client{
	Timeout: time.Second,
	Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // a loopback probe of a server we started
		DialContext:     (&net.Dialer{Timeout: time.Second}).DialContext,
	},
}

// WaitBody polls url every 2 ms until it answers 200 with a body containing
// want, p exits, or timeout passes.
func WaitBody(ctx context.Context, p *Process, url, want string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := p.Exited(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := pollClient.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s did not answer %q in %v; see %s", p.Name, url, want, timeout, p.log.Name())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux architecture Go supports.
const clockTick = 100

// CPUTime is the user + system CPU time pid has used.
func CPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields resume after its ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTick, nil
}

// FreePorts returns n distinct loopback ports nobody listens on right now.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// BuildTug builds ./cmd/tug of the module the harness runs in to out.
func BuildTug(ctx context.Context, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", version.BuildTags, "-o", out, "github.com/tugcluster/tug/cmd/tug")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build tug: %w", err)
	}
	return nil
}
