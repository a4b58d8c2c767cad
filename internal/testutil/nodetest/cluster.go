// Package nodetest starts clusters of real nodes for tests: a tug server
// in the test process and, for each node, a `tug agent` process with its
// own containerd inside a network namespace the test creates, joined to
// the test's own bridge. Traffic stays inside those namespaces and the
// bridge; nothing leaves the machine.
package nodetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/runtime/cri"
	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/version"
)

// BusyboxImage is the image every node imports at start: busybox from the
// host's busybox-static, built by the test.
const BusyboxImage = "tug.local/busybox:1"

// Cluster is a server and its real nodes.
type Cluster struct {
	*testutil.Server
	// Token is the join token.
	Token string
	// Subnet is the first three octets of the test bridge's /24.
	Subnet string
	Nodes  []*Node
}

// Node is one agent process in its network namespace.
type Node struct {
	Name    string
	IP      string
	NetNS   string
	DataDir string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	logFile *os.File
}

// Endpoint is the node's containerd CRI socket.
func (n *Node) Endpoint() string {
	return filepath.Join(n.DataDir, "agent", "containerd", "containerd.sock")
}

// Pid is the agent's process ID (nsenter execs it in place).
func (n *Node) Pid() int { return n.cmd.Process.Pid }

// LogPath is the agent's log file.
func (n *Node) LogPath() string { return filepath.Join(n.DataDir, "agent.log") }

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// tugBinary builds the tug binary once per test process.
func tugBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		if buildDir, buildErr = os.MkdirTemp("", "tug-nodetest-"); buildErr != nil {
			return
		}
		build := exec.Command("go", "build", "-tags", version.BuildTags, "-o", filepath.Join(buildDir, "tug"), "./cmd/tug")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tug: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "tug")
}

// StartCluster starts a server and n nodes (node-0 …), and waits until
// every node is Ready. The test fails, rather than skips, when containerd,
// runc, the CNI plugins or busybox-static are missing.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if err := containerd.CheckBinaries(); err != nil {
		t.Fatal(err)
	}
	bin := tugBinary(t)
	id := randomID(t)
	subnet := freeSubnet(t)
	bridge := "tb" + id
	run(t, "ip", "link", "add", bridge, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })
	run(t, "ip", "addr", "add", subnet+".1/24", "dev", bridge)
	run(t, "ip", "link", "set", bridge, "up")

	srv := testutil.StartServer(t, func(o *server.Options) { o.BindAddress = subnet + ".1" })
	token, err := os.ReadFile(filepath.Join(srv.DataDir, "server", "token"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Server: srv, Token: strings.TrimSpace(string(token)), Subnet: subnet}
	for i := range n {
		c.Nodes = append(c.Nodes, c.startNode(t, bin, id, i))
	}
	for _, node := range c.Nodes {
		c.WaitNodeReady(t, node, 90*time.Second)
	}
	return c
}

// startNode creates node i's namespace and starts its agent.
func (c *Cluster) startNode(t testing.TB, bin, id string, i int) *Node {
	t.Helper()
	node := &Node{
		Name:    fmt.Sprintf("node-%d", i),
		IP:      fmt.Sprintf("%s.%d", c.Subnet, 10+i),
		NetNS:   fmt.Sprintf("tn%s-%d", id, i),
		DataDir: t.TempDir(),
	}
	hostVeth, nodeVeth := fmt.Sprintf("tv%s%d", id, i), fmt.Sprintf("tp%s%d", id, i)
	run(t, "ip", "netns", "add", node.NetNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", node.NetNS).Run() })
	run(t, "ip", "link", "add", hostVeth, "type", "veth", "peer", "name", nodeVeth)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostVeth).Run() })
	run(t, "ip", "link", "set", hostVeth, "master", "tb"+id, "up")
	run(t, "ip", "link", "set", nodeVeth, "netns", node.NetNS)
	inNS := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", node.NetNS}, args...)...) }
	inNS("ip", "link", "set", nodeVeth, "name", "eth0")
	inNS("ip", "addr", "add", node.IP+"/24", "dev", "eth0")
	inNS("ip", "link", "set", "eth0", "up")
	inNS("ip", "link", "set", "lo", "up")
	// No default route: nothing a node or its pods send can leave the
	// test's bridge subnet.

	imagesDir := filepath.Join(node.DataDir, "agent", "images")
	writeBusybox(t, imagesDir)
	logFile, err := os.Create(node.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	node.logFile = logFile
	// nsenter enters only the network namespace: `ip netns exec` would also
	// remount /sys, hiding the cgroup file systems runc needs.
	node.cmd = exec.Command("nsenter", "--net=/run/netns/"+node.NetNS, "--", bin, "agent",
		"--server", c.URL, "--token", c.Token, "--data-dir", node.DataDir,
		"--node-name", node.Name, "--node-ip", node.IP,
		"--pod-logs-dir", filepath.Join(node.DataDir, "pod-logs"), "--masquerade=false", "--disable-dns-forwarding", "-v", "2")
	node.start(t, node.cmd)
	t.Cleanup(func() { c.stopNode(t, node) })
	return node
}

// start starts cmd as the node's agent.
func (n *Node) start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	cmd.Stdout, cmd.Stderr = n.logFile, n.logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.cmd = cmd
	n.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
}

// stop stops the agent: SIGTERM, then SIGKILL after 30 s.
func (n *Node) stop() {
	n.signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.signal(syscall.SIGKILL)
		<-n.exited
	}
}

// StopAgent stops the node's agent and its containerd; the containers
// keep running.
func (c *Cluster) StopAgent(t testing.TB, node *Node) {
	t.Helper()
	node.stop()
}

// StartAgent starts a stopped agent again, with the same arguments, and
// waits until it renews its node's Lease.
func (c *Cluster) StartAgent(t testing.TB, node *Node) {
	t.Helper()
	since := time.Now()
	node.start(t, exec.Command(node.cmd.Args[0], node.cmd.Args[1:]...))
	deadline := since.Add(90 * time.Second)
	for {
		select {
		case <-node.exited:
			t.Fatalf("agent of node %s exited", node.Name)
		default:
		}
		lease, err := c.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), node.Name, metav1.GetOptions{})
		if err == nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(since) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent of node %s did not renew its lease within 90s of its restart", node.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (n *Node) signal(sig syscall.Signal) {
	if n.cmd.Process != nil {
		_ = syscall.Kill(-n.cmd.Process.Pid, sig)
	}
}

// stopNode removes every pod sandbox of the node through its runtime (so
// no container outlives the test), then stops the agent and its
// containerd.
func (c *Cluster) stopNode(t testing.TB, node *Node) {
	select {
	case <-node.exited:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		c.drain(ctx, t, node)
		removeSandboxes(ctx, t, node.Endpoint())
		cancel()
		node.stop()
	}
	_ = node.logFile.Close()
	if t.Failed() {
		if data, err := os.ReadFile(node.LogPath()); err == nil {
			t.Logf("agent %s log (last 8 KiB):\n%s", node.Name, tail(data, 8<<10))
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// drain deletes the pods bound to node and waits (up to 30 s) for its
// runtime to have no sandboxes left, so the agent removes them itself.
func (c *Cluster) drain(ctx context.Context, t testing.TB, node *Node) {
	pods, err := c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node.Name})
	if err != nil {
		t.Logf("clean-up: list pods of %s: %v", node.Name, err)
		return
	}
	for _, pod := range pods.Items {
		_ = c.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	}
	client, err := cri.Dial(ctx, node.Endpoint())
	if err != nil {
		return
	}
	defer func() { _ = client.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sbs, err := client.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil || len(sbs.Items) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeSandboxes stops and removes every sandbox of the runtime at
// endpoint, which kills their containers and shims.
func removeSandboxes(ctx context.Context, t testing.TB, endpoint string) {
	client, err := cri.Dial(ctx, endpoint)
	if err != nil {
		t.Logf("clean-up: dial %s: %v", endpoint, err)
		return
	}
	defer func() { _ = client.Close() }()
	sbs, err := client.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Logf("clean-up: list sandboxes: %v", err)
		return
	}
	for _, sb := range sbs.Items {
		_, _ = client.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
		_, _ = client.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
	}
}

// WaitNodeReady waits until the node reports Ready; the test fails at
// once if its agent exits.
func (c *Cluster) WaitNodeReady(t testing.TB, n *Node, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	name := n.Name
	for {
		select {
		case <-n.exited:
			t.Fatalf("agent of node %s exited", name)
		default:
		}
		node, err := c.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not Ready within %v (last error %v)", name, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeBusybox writes the busybox image archive where the agent imports
// images from at start.
func writeBusybox(t testing.TB, dir string) {
	t.Helper()
	img, err := images.BusyboxImage(BusyboxImage)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "busybox.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if err := images.WriteArchive(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func randomID(t testing.TB) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeSubnet picks a 10.200.x.0/24 that no interface on the host uses.
func freeSubnet(t testing.TB) string {
	t.Helper()
	used := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			ip := n.IP.To4()
			used[fmt.Sprintf("%d.%d.%d", ip[0], ip[1], ip[2])] = true
		}
	}
	b := make([]byte, 1)
	for range 100 {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprintf("10.200.%d", 1+int(b[0])%250)
		if !used[s] {
			return s
		}
	}
	t.Fatal("no free 10.200.x.0/24 subnet")
	return ""
}
