package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/atomicfile"
	"github.com/tugcluster/tug/internal/runtime/cri"
)

// maxSocketPath is the longest unix socket path Linux takes (sun_path is
// 108 bytes with the NUL); containerd also listens on <socket>.ttrpc.
const maxSocketPath = 107 - len(".ttrpc")

// logTailSize is how much of containerd's log a start error quotes.
const logTailSize = 2048

// Process is a running, supervised containerd.
type Process struct {
	endpoint string
	pid      int
	exited   chan struct{} // closed when containerd has exited
	done     chan struct{} // closed when supervision ended; err is set
	err      error
	stop     context.CancelFunc // stops containerd; called by supervise when done
}

// Start writes containerd's config under opts.DataDir, starts containerd
// as a child process in its own process group and returns once its CRI
// service reports the runtime ready. containerd runs until ctx ends, when
// it gets SIGTERM and, StopTimeout later, SIGKILL; Wait returns after that.
// Should tug die first, the kernel sends containerd SIGTERM (so a restarted
// agent finds its socket free); containers keep running either way.
func Start(ctx context.Context, opts Options) (*Process, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if err := checkBinaries(o.CNIBinDirs); err != nil {
		return nil, err
	}
	p := pathsFor(o.DataDir)
	if len(p.socket) > maxSocketPath {
		return nil, fmt.Errorf("containerd: socket path %s is longer than %d bytes: use a shorter data directory", p.socket, maxSocketPath)
	}
	for _, dir := range []string{p.root, p.state, o.CNIConfDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("containerd: %w", err)
		}
	}
	logger := klog.FromContext(ctx)
	if o.Snapshotter == "" {
		ok, err := overlaySupported(p.root)
		if err != nil {
			return nil, fmt.Errorf("containerd: %w", err)
		}
		o.Snapshotter = Overlayfs
		if !ok {
			logger.Info("Overlay mounts do not work in the data directory: containerd copies image layers (native snapshotter)", "dir", p.root)
			o.Snapshotter = Native
		}
	}
	binDir, err := cniBinDir(o.CNIBinDirs, p.cniBin)
	if err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	// Lowering an OOM score needs CAP_SYS_RESOURCE, which root in some
	// containers and VMs lacks; runc would fail every sandbox (the CRI
	// plugin gives them -998) with "can't get final child's PID".
	cfg, err := renderConfig(o, p, binDir, !hasCapability(unix.CAP_SYS_RESOURCE))
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(p.config, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}

	var logFile *os.File
	var logStart int64
	if o.Stdout == nil || o.Stderr == nil {
		logFile, err = os.OpenFile(p.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("containerd: %w", err)
		}
		if fi, err := logFile.Stat(); err == nil {
			logStart = fi.Size()
		}
	}
	argv := append(append([]string{}, o.Command...), "containerd", "--config", p.config)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = writerOr(o.Stdout, logFile), writerOr(o.Stderr, logFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own group: a ^C to tug's terminal reaches tug, which stops
		// containerd in order, and not containerd directly.
		Setpgid: true,
		// Sent when the thread that started containerd dies, which for a
		// Go program means the process: the Go runtime keeps its threads.
		Pdeathsig: syscall.SIGTERM,
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		closeLog(logFile)
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	proc := &Process{
		endpoint: "unix://" + p.socket,
		pid:      cmd.Process.Pid,
		exited:   make(chan struct{}),
		done:     make(chan struct{}),
	}
	runCtx, stop := context.WithCancel(ctx)
	proc.stop = stop
	go proc.supervise(runCtx, cmd, logFile, o.StopTimeout)

	if err := proc.waitReady(ctx, o.StartTimeout); err != nil {
		stop()
		<-proc.done
		if logFile != nil {
			err = fmt.Errorf("%w; the log %s ends with:\n%s", err, p.log, logTail(p.log, logStart))
		}
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	logger.V(2).Info("Started containerd", "pid", proc.pid, "endpoint", proc.endpoint,
		"snapshotter", o.Snapshotter, "startup", time.Since(start))
	return proc, nil
}

// Endpoint is containerd's CRI endpoint, "unix:///<agent dir>/containerd/containerd.sock".
func (p *Process) Endpoint() string { return p.endpoint }

// Pid is containerd's process ID (of the Command prefix, which execs it).
func (p *Process) Pid() int { return p.pid }

// Wait blocks until containerd has exited and supervision ended. It
// returns nil when containerd was stopped because Start's ctx ended, and
// an error when it exited on its own.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// supervise waits for containerd to exit, or for ctx to end and then stops
// it; it sets p.err and closes p.done when containerd is gone.
func (p *Process) supervise(ctx context.Context, cmd *exec.Cmd, logFile *os.File, grace time.Duration) {
	defer close(p.done)
	defer p.stop()
	defer closeLog(logFile)
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(p.exited)
	}()
	select {
	case <-p.exited:
		if waitErr == nil {
			waitErr = errors.New("exit status 0")
		}
		p.err = fmt.Errorf("containerd (pid %d) exited: %w", p.pid, waitErr)
		return
	case <-ctx.Done():
	}
	logger := klog.FromContext(ctx)
	// Errors are ignored: the process may have exited meanwhile, and
	// p.exited tells.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		logger.Info("containerd did not exit after SIGTERM: killing it", "pid", p.pid, "grace", grace)
		_ = cmd.Process.Kill()
		<-p.exited
	}
	logger.V(2).Info("Stopped containerd", "pid", p.pid)
}

// waitReady waits until the CRI service answers ready, containerd exits,
// or timeout passes.
func (p *Process) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	client, err := cri.Dial(ctx, p.endpoint)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }() // only read through
	err = client.WaitReady(ctx)
	select {
	case <-p.exited:
		return fmt.Errorf("containerd exited before it was ready")
	default:
		return err
	}
}

func writerOr(w io.Writer, f *os.File) io.Writer {
	if w != nil {
		return w
	}
	return f
}

func closeLog(f *os.File) {
	if f != nil {
		// Nothing buffered: a failed close loses nothing.
		_ = f.Close()
	}
}

// logTail returns the end of what was logged at or after offset from.
func logTail(path string, from int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < from {
		return "(unreadable)"
	}
	data = data[from:]
	if len(data) > logTailSize {
		data = data[len(data)-logTailSize:]
	}
	return strings.TrimSpace(string(data))
}
