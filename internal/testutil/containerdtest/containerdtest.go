// Package containerdtest starts a private containerd for a test: its own
// config, socket, root and state in a temporary directory, the pause and a
// busybox image imported, and everything it ran removed at cleanup.
package containerdtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/network/cni"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/runtime/cri"
)

// BusyboxRef names the busybox image every Runtime has
// (images.BusyboxImage around the host's busybox-static).
const BusyboxRef = "tug.local/busybox:1"

// Runtime is a private containerd with the pause and busybox images.
type Runtime struct {
	// Endpoint is the CRI endpoint, "unix:///…/containerd.sock".
	Endpoint string
	// Client is connected to Endpoint; cleanup closes it.
	Client *cri.Client
	// Dir is the agent directory containerd's files are under.
	Dir string
	// CNIConfDir is the CNI config directory containerd watches.
	CNIConfDir string
	// Netns is the name (for `ip netns exec`) of the network namespace
	// containerd and its pods' bridge live in; empty when containerd runs
	// in the host's, where only host-network pods can run.
	Netns string
}

// Start starts a containerd in the host network namespace without a CNI
// config: pods must use the node's network (NamespaceOption Network NODE).
// The test fails, not skips, when containerd, runc or the CNI plugins are
// missing.
func Start(t testing.TB) *Runtime {
	t.Helper()
	return start(t, "", nil)
}

// StartNetwork starts a containerd inside a network namespace it creates,
// with tug's CNI config for podCIDR: pods get addresses from podCIDR on a
// tug0 bridge that exists only in that namespace, which has no way out.
// Reach pods with `ip netns exec <Runtime.Netns> …`. Cleanup deletes the
// namespace.
func StartNetwork(t testing.TB, podCIDR string) *Runtime {
	t.Helper()
	name := "tugtest-" + randomHex(t, 4)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("create network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("delete network namespace %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("network namespace %s: lo up: %v: %s", name, err, out)
	}
	return start(t, name, []string{podCIDR})
}

func start(t testing.TB, netns string, podCIDRs []string) *Runtime {
	t.Helper()
	if err := containerd.CheckBinaries(); err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: test names would make the socket path too long.
	dir, err := os.MkdirTemp("", "tug-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(t, dir) })
	r := &Runtime{Dir: dir, CNIConfDir: filepath.Join(dir, "cni", "net.d"), Netns: netns}
	if len(podCIDRs) > 0 {
		// host-local's allocations stay in the test's directory.
		opts := cni.Options{IPAMDataDir: filepath.Join(dir, "cni", "networks")}
		if err := cni.WriteConfig(r.CNIConfDir, podCIDRs, opts); err != nil {
			t.Fatal(err)
		}
	}
	opts := containerd.Options{
		DataDir:    dir,
		CNIConfDir: r.CNIConfDir,
		// A test never pulls: every registry request goes to a closed
		// loopback port instead of the Internet.
		Env: []string{
			"HTTP_PROXY=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
			"HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
			"NO_PROXY=", "no_proxy=",
		},
	}
	if netns != "" {
		// nsenter enters only the network namespace and execs containerd,
		// which then shares the test's mount namespace.
		opts.Command = []string{"nsenter", "--net=/var/run/netns/" + netns}
	}
	ctx, stop := context.WithCancel(context.Background())
	proc, err := containerd.Start(ctx, opts)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		if err := proc.Wait(); err != nil {
			t.Errorf("containerd: %v", err)
		}
		if t.Failed() {
			if data, err := os.ReadFile(filepath.Join(dir, "containerd", "containerd.log")); err == nil {
				t.Logf("containerd log:\n%s", tail(string(data), 40))
			}
		}
	})
	r.Endpoint = proc.Endpoint()
	r.Client, err = cri.Dial(ctx, r.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.removePods(t)
		if err := r.Client.Close(); err != nil {
			t.Error(err)
		}
	})

	if err := images.EnsurePause(ctx, r.Endpoint, dir); err != nil {
		t.Fatal(err)
	}
	img, err := images.BusyboxImage(BusyboxRef)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "busybox.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	err = images.WriteArchive(f, img)
	if err = errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	if err := images.Import(ctx, r.Endpoint, archive); err != nil {
		t.Fatal(err)
	}
	return r
}

// removePods stops and removes every pod sandbox and container in the
// runtime: all of them are the test's.
func (r *Runtime) removePods(t testing.TB) {
	ctx := context.Background()
	sandboxes, err := r.Client.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Errorf("cleanup: list pod sandboxes: %v", err)
		return
	}
	for _, s := range sandboxes.GetItems() {
		if _, err := r.Client.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			t.Errorf("cleanup: stop pod sandbox %s: %v", s.GetMetadata().GetName(), err)
		}
		if _, err := r.Client.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			t.Errorf("cleanup: remove pod sandbox %s: %v", s.GetMetadata().GetName(), err)
		}
	}
	// Containers whose sandbox is gone already went with it; any left
	// (created outside a listed sandbox) go now.
	containers, err := r.Client.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		t.Errorf("cleanup: list containers: %v", err)
		return
	}
	for _, c := range containers.GetContainers() {
		if _, err := r.Client.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.GetId()}); err != nil {
			t.Errorf("cleanup: remove container %s: %v", c.GetMetadata().GetName(), err)
		}
	}
}

// removeAll removes dir, unmounting first whatever is still mounted under
// it (a failed test may leave a container's rootfs behind).
func removeAll(t testing.TB, dir string) {
	if err := os.RemoveAll(dir); err == nil {
		return
	}
	mounts, err := mountsUnder(dir)
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	// Deepest first, so that no mount hides another.
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: unmount %s: %v", mounts[i], err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// mountsUnder lists the mount points at or below dir, in mount order.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		// The mount point, with spaces and such octal-escaped.
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	return mounts, sc.Err()
}

func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			c := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(c)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
