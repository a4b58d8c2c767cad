package containerdtest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
)

// The tests follow the CRI contract of tug's kubelet: labels, metadata and
// log paths as the kubelet sets them.
const (
	podNamespace = "default"
	logRoot      = "pods"
)

func sandboxConfig(r *Runtime, name string, hostNetwork bool) *runtimeapi.PodSandboxConfig {
	uid := "uid-" + name
	network := runtimeapi.NamespaceMode_POD
	if hostNetwork {
		network = runtimeapi.NamespaceMode_NODE
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: podNamespace, Uid: uid},
		LogDirectory: filepath.Join(r.Dir, logRoot, fmt.Sprintf("%s_%s_%s", podNamespace, name, uid)),
		Labels: map[string]string{
			"io.kubernetes.pod.name":      name,
			"io.kubernetes.pod.namespace": podNamespace,
			"io.kubernetes.pod.uid":       uid,
		},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: network},
			},
		},
	}
	if !hostNetwork {
		// A host-network pod shares the node's UTS namespace, where runc
		// may not set a hostname; the kubelet sets none for them either.
		cfg.Hostname = name
	}
	return cfg
}

// runPod runs a sandbox and returns its ID.
func runPod(ctx context.Context, t *testing.T, r *Runtime, cfg *runtimeapi.PodSandboxConfig) string {
	t.Helper()
	if err := os.MkdirAll(cfg.GetLogDirectory(), 0o755); err != nil {
		t.Fatal(err)
	}
	resp, err := r.Client.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatalf("run pod sandbox %s: %v", cfg.GetMetadata().GetName(), err)
	}
	return resp.GetPodSandboxId()
}

// runContainer creates and starts a busybox container running command.
func runContainer(ctx context.Context, t *testing.T, r *Runtime, podID string, pod *runtimeapi.PodSandboxConfig, name string, command ...string) string {
	t.Helper()
	labels := map[string]string{"io.kubernetes.container.name": name}
	for k, v := range pod.GetLabels() {
		labels[k] = v
	}
	created, err := r.Client.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: podID,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name},
			Image:    &runtimeapi.ImageSpec{Image: BusyboxRef},
			Command:  command,
			Labels:   labels,
			LogPath:  filepath.Join(name, "0.log"),
		},
		SandboxConfig: pod,
	})
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	id := created.GetContainerId()
	if _, err := r.Client.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("start container %s: %v", name, err)
	}
	return id
}

// waitExited polls until the container has exited and returns its status.
func waitExited(ctx context.Context, t *testing.T, r *Runtime, id string) *runtimeapi.ContainerStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		resp, err := r.Client.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		if err != nil {
			t.Fatalf("container status: %v", err)
		}
		if st := resp.GetStatus(); st.GetState() == runtimeapi.ContainerState_CONTAINER_EXITED {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("container %s did not exit: %v", id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestHostNetworkPod(t *testing.T) {
	r := Start(t)
	ctx := t.Context()

	v, err := r.Client.Runtime.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetRuntimeName() != "containerd" || v.GetRuntimeApiVersion() != "v1" {
		t.Errorf("version = %v, want containerd speaking CRI v1", v)
	}
	for _, ref := range []string{images.PauseImageRef, BusyboxRef} {
		st, err := r.Client.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil || st.GetImage() == nil {
			t.Fatalf("image %s: %v, %v; want it imported", ref, st, err)
		}
	}

	pod := sandboxConfig(r, "echo", true)
	podID := runPod(ctx, t, r, pod)
	id := runContainer(ctx, t, r, podID, pod, "hello", "echo", "hi")
	st := waitExited(ctx, t, r, id)
	if st.GetExitCode() != 0 {
		t.Fatalf("echo exited %d (%s: %s), want 0", st.GetExitCode(), st.GetReason(), st.GetMessage())
	}
	logPath := filepath.Join(pod.GetLogDirectory(), "hello", "0.log")
	if st.GetLogPath() != logPath {
		t.Errorf("log path %q, want %q", st.GetLogPath(), logPath)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// CRI log format: time, stream, F(ull) or P(artial), the line.
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[^ ]+ stdout F hi\n$`).Match(data) {
		t.Errorf("log = %q, want one CRI log line with stdout \"hi\"", data)
	}
}

func TestPodNetwork(t *testing.T) {
	r := StartNetwork(t, "10.250.0.0/24")
	ctx := t.Context()

	pod := sandboxConfig(r, "net", false)
	podID := runPod(ctx, t, r, pod)
	st, err := r.Client.Runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(st.GetStatus().GetNetwork().GetIp())
	if err != nil {
		t.Fatalf("pod IP: %v", err)
	}
	if !netip.MustParsePrefix("10.250.0.0/24").Contains(ip) {
		t.Fatalf("pod IP %s is not in the pod CIDR 10.250.0.0/24", ip)
	}
	// The bridge is in the test's namespace, and the pod answers there.
	if out, err := exec.Command("ip", "-n", r.Netns, "link", "show", "tug0").CombinedOutput(); err != nil {
		t.Errorf("bridge tug0 in %s: %v: %s", r.Netns, err, out)
	}
	out, err := exec.Command("ip", "netns", "exec", r.Netns, images.BusyboxPath, "ping", "-c", "1", "-W", "10", ip.String()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 packets received") {
		t.Errorf("ping %s from %s: %v: %s", ip, r.Netns, err, out)
	}
	// A container in the pod sees the address on its eth0.
	id := runContainer(ctx, t, r, podID, pod, "addr", "ip", "-4", "addr", "show", "eth0")
	if cst := waitExited(ctx, t, r, id); cst.GetExitCode() != 0 {
		t.Fatalf("ip addr exited %d", cst.GetExitCode())
	}
	data, err := os.ReadFile(filepath.Join(pod.GetLogDirectory(), "addr", "0.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "inet "+ip.String()+"/24") {
		t.Errorf("eth0 in the pod:\n%s\nwant inet %s/24", data, ip)
	}
}
