package containerd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/runtime/cri"
)

// shortDir returns a temporary directory with a path short enough for
// containerd's sockets (t.TempDir's embeds the test name).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tug-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// startContainerd starts containerd on dir until the returned stop is
// called, which waits for it to exit and fails the test if it had exited
// on its own.
func startContainerd(t *testing.T, opts containerd.Options) (*containerd.Process, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	proc, err := containerd.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// The figure quoted in reviews: process start to CRI ready.
	t.Logf("containerd (%s) ready in %v", opts.Snapshotter, time.Since(start))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := proc.Wait(); err != nil {
			t.Errorf("containerd: %v", err)
		}
	}
	t.Cleanup(stop)
	return proc, stop
}

// TestRestartKeepsPods runs a pod, restarts containerd and finds the pod
// still running; on the native snapshotter, the fallback for file systems
// without overlay, so that path is run too.
func TestRestartKeepsPods(t *testing.T) {
	dir := shortDir(t)
	ctx := t.Context()
	opts := containerd.Options{DataDir: dir, Snapshotter: containerd.Native}
	proc, stop := startContainerd(t, opts)
	wantEndpoint := "unix://" + filepath.Join(dir, "containerd", "containerd.sock")
	if proc.Endpoint() != wantEndpoint {
		t.Errorf("Endpoint() = %q, want %q", proc.Endpoint(), wantEndpoint)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "containerd", "config.toml"))
	if err != nil || !strings.Contains(string(cfg), `snapshotter = "native"`) {
		t.Errorf("config.toml: %v, want the native snapshotter in:\n%s", err, cfg)
	}
	if err := images.EnsurePause(ctx, proc.Endpoint(), dir); err != nil {
		t.Fatal(err)
	}
	client, err := cri.Dial(ctx, proc.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	resp, err := client.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "survivor", Namespace: "default", Uid: "uid-survivor"},
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	podID := resp.GetPodSandboxId()
	defer func() {
		// Best effort when the test failed early; the checks below cover
		// removal on the happy path.
		_, _ = client.Runtime.StopPodSandbox(context.Background(), &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID})
		_, _ = client.Runtime.RemovePodSandbox(context.Background(), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID})
	}()
	pausePid := sandboxPid(ctx, t, client, podID)

	stop()
	if err := syscall.Kill(pausePid, 0); err != nil {
		t.Fatalf("pause process %d gone after containerd stopped: %v", pausePid, err)
	}
	_, _ = startContainerd(t, opts)
	// The old client reconnects to the new containerd on the same socket.
	if err := client.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := client.Runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetStatus().GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Errorf("sandbox after restart is %v, want ready", st.GetStatus().GetState())
	}
	if got := sandboxPid(ctx, t, client, podID); got != pausePid {
		t.Errorf("pause pid after restart %d, want %d", got, pausePid)
	}
	if _, err := client.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
}

// sandboxPid returns the pid of a sandbox's pause process, from the
// runtime's verbose status.
func sandboxPid(ctx context.Context, t *testing.T, client *cri.Client, podID string) int {
	t.Helper()
	st, err := client.Runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	info := st.GetInfo()["info"]
	i := strings.Index(info, `"pid":`)
	if i < 0 {
		t.Fatalf("no pid in sandbox info %s", info)
	}
	var pid int
	for _, c := range info[i+len(`"pid":`):] {
		if c < '0' || c > '9' {
			break
		}
		pid = 10*pid + int(c-'0')
	}
	if pid == 0 {
		t.Fatalf("no pid in sandbox info %s", info)
	}
	return pid
}

// TestStartFailure: a containerd that exits during start is reported with
// its log, and nothing keeps running.
func TestStartFailure(t *testing.T) {
	dir := shortDir(t)
	_, err := containerd.Start(t.Context(), containerd.Options{
		DataDir: dir,
		// The prefix runs instead of containerd, which it would get as $0 and $@.
		Command: []string{"sh", "-c", "echo config is broken >&2; exit 3"},
	})
	if err == nil {
		t.Fatal("Start succeeded, want an error")
	}
	for _, want := range []string{"exited before it was ready", "config is broken"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestExitReported: containerd dying on its own is Wait's error.
func TestExitReported(t *testing.T) {
	dir := shortDir(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	proc, err := containerd.Start(ctx, containerd.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = proc.Wait()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait() = %v, want containerd's death by SIGKILL", err)
	}
}

// BenchmarkStart measures containerd's start: config written, process
// started, CRI ready; and its stop.
func BenchmarkStart(b *testing.B) {
	dir, err := os.MkdirTemp("", "tug-ctrd-")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		proc, err := containerd.Start(ctx, containerd.Options{DataDir: dir})
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		cancel()
		if err := proc.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
