package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/runtime/cri"
)

// testNet is a bridge in the host's network namespace, with a free
// 10.201.x.0/24 of which the host holds .1, and the network namespaces
// (the test's "machines") plugged into it. The namespaces get no default
// route: whatever runs inside reaches the bridge's subnet and nothing
// beyond it, so no traffic can leave the machine.
type testNet struct {
	// id makes the names of the bridge, namespaces and links unique.
	id string
	// subnet is the first three octets of the /24, e.g. "10.201.7".
	subnet string
	// bridge is the bridge's name.
	bridge string
}

// newTestNet creates the bridge and deletes it when the test ends.
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	id := randomID(t)
	n := &testNet{id: id, subnet: freeSubnet(t), bridge: "teb" + id}
	mustRun(t, "ip", "link", "add", n.bridge, "type", "bridge")
	t.Cleanup(func() { deleteLink(t, n.bridge) })
	mustRun(t, "ip", "addr", "add", n.subnet+".1/24", "dev", n.bridge)
	mustRun(t, "ip", "link", "set", n.bridge, "up")
	return n
}

// addMachine creates a network namespace holding eth0 with address
// <subnet>.host, a veth whose peer is plugged into the bridge, and
// deletes both when the test ends. It returns the namespace's name and
// the address.
func (n *testNet) addMachine(t *testing.T, host int) (netns, ip string) {
	t.Helper()
	netns = fmt.Sprintf("ten%s-%d", n.id, host)
	ip = fmt.Sprintf("%s.%d", n.subnet, host)
	hostVeth, inner := fmt.Sprintf("tev%s%d", n.id, host), fmt.Sprintf("tep%s%d", n.id, host)
	mustRun(t, "ip", "netns", "add", netns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", netns).CombinedOutput(); err != nil {
			t.Errorf("clean-up: ip netns del %s: %v\n%s", netns, err, out)
		}
	})
	mustRun(t, "ip", "link", "add", hostVeth, "type", "veth", "peer", "name", inner)
	t.Cleanup(func() { deleteLink(t, hostVeth) })
	mustRun(t, "ip", "link", "set", hostVeth, "master", n.bridge, "up")
	mustRun(t, "ip", "link", "set", inner, "netns", netns)
	in := func(args ...string) { mustRun(t, append([]string{"ip", "-n", netns}, args...)...) }
	in("link", "set", inner, "name", "eth0")
	in("addr", "add", ip+"/24", "dev", "eth0")
	in("link", "set", "eth0", "up")
	in("link", "set", "lo", "up")
	return netns, ip
}

// deleteLink deletes a link of the host namespace unless it is gone
// already (a veth goes with its namespace).
func deleteLink(t *testing.T, name string) {
	if _, err := net.InterfaceByName(name); err != nil {
		return
	}
	if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil {
		t.Errorf("clean-up: ip link del %s: %v\n%s", name, err, out)
	}
}

// nsProcess is a tug process running in a network namespace.
type nsProcess struct {
	// pid identifies the process: nsenter execs tug in its place, so
	// signals to pid reach tug itself.
	pid int
	// log holds its stdout and stderr.
	log string
	// exited receives the result of Wait once.
	exited chan error
	// done is set once exited has been received from, with exitErr.
	done    bool
	exitErr error
}

// startInNetNS runs the built tug binary with args inside netns, with its
// output in log. Only the network namespace is entered: `ip netns exec`
// would also remount /sys, which hides the cgroup file systems from runc.
// The caller stops it (see stop).
func startInNetNS(t *testing.T, netns, log string, args ...string) *nsProcess {
	t.Helper()
	logFile, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + netns, "--", tugBinary}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tug %s in %s: %v", args[0], netns, err)
	}
	p := &nsProcess{pid: cmd.Process.Pid, log: log, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	t.Logf("tug %s pid %d started in netns %s", args[0], p.pid, netns)
	return p
}

// stop sends SIGTERM and waits for a clean exit (see stopProcess); a
// process that exited before is reported with how it exited.
func (p *nsProcess) stop(t *testing.T) error {
	if exited, err := p.hasExited(); exited {
		if err == nil {
			err = errors.New("exit status 0")
		}
		return fmt.Errorf("pid %d had exited before it was stopped: %w", p.pid, err)
	}
	p.done = true
	return stopProcess(t, p.pid, p.exited)
}

// hasExited reports, without blocking, whether the process has exited,
// and how.
func (p *nsProcess) hasExited() (bool, error) {
	if p.done {
		return true, p.exitErr
	}
	select {
	case p.exitErr = <-p.exited:
		p.done = true
		return true, p.exitErr
	default:
		return false, nil
	}
}

// machine is a tug process that runs a node (`tug server` with its own
// node agent, or `tug agent`) in a network namespace on the test's bridge.
type machine struct {
	// node is its node's name (--node-name).
	node string
	// ip is its address on the bridge (--node-ip).
	ip string
	// netns is its network namespace.
	netns string
	// dataDir is its --data-dir.
	dataDir string
	// proc is the tug process.
	proc *nsProcess
}

// endpoint is the CRI socket of the containerd the node agent starts.
func (m *machine) endpoint() string {
	return filepath.Join(m.dataDir, "agent", "containerd", "containerd.sock")
}

// rescue removes the sandboxes tug left behind (with their containers,
// mounts and network namespaces) through the node's containerd: the one
// still running, else one the test starts in the node's network namespace
// on the config tug wrote, and stops again.
func (m *machine) rescue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), nodeAgentTimeout)
	defer cancel()
	probe, stopProbe := context.WithTimeout(ctx, 5*time.Second)
	_, err := sandboxIDs(probe, m.endpoint())
	stopProbe()
	if err == nil {
		if err := removeSandboxes(ctx, m.endpoint()); err != nil {
			t.Errorf("rescue of node %s: %v", m.node, err)
		}
		return
	}
	config := filepath.Join(m.dataDir, "agent", "containerd", "config.toml")
	cmd := exec.Command("nsenter", "--net=/run/netns/"+m.netns, "--", "containerd", "--config", config)
	log, err := os.Create(filepath.Join(m.dataDir, "rescue-containerd.log"))
	if err != nil {
		t.Errorf("rescue of node %s: %v", m.node, err)
		return
	}
	defer func() { _ = log.Close() }()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Errorf("rescue of node %s: start containerd: %v", m.node, err)
		return
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if err := stopProcess(t, cmd.Process.Pid, exited); err != nil {
			t.Logf("rescue containerd of node %s: %v", m.node, err)
		}
	}()
	for {
		_, err := sandboxIDs(ctx, m.endpoint())
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Errorf("rescue of node %s: containerd did not serve: %v", m.node, err)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := removeSandboxes(ctx, m.endpoint()); err != nil {
		t.Errorf("rescue of node %s: %v", m.node, err)
	}
}

// waitNoSandboxes waits until the runtime at endpoint has no pod
// sandboxes, and says which are left if it does not within
// nodeAgentTimeout.
func waitNoSandboxes(endpoint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), nodeAgentTimeout)
	defer cancel()
	var ids []string
	var err error
	for {
		ids, err = sandboxIDs(ctx, endpoint)
		if err == nil && len(ids) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("list the sandboxes of %s: %w", endpoint, err)
			}
			return fmt.Errorf("sandboxes %s still in %s after %v", strings.Join(ids, ", "), endpoint, nodeAgentTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sandboxIDs lists the pod sandboxes of the CRI runtime at endpoint.
func sandboxIDs(ctx context.Context, endpoint string) ([]string, error) {
	client, err := cri.Dial(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	defer func() { _ = client.Close() }()
	resp, err := client.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return nil, fmt.Errorf("list pod sandboxes: %w", err)
	}
	ids := make([]string, 0, len(resp.Items))
	for _, sb := range resp.Items {
		ids = append(ids, sb.Id)
	}
	return ids, nil
}

// removeSandboxes stops and removes every sandbox of the runtime at
// endpoint, which kills their containers and shims: the last resort of a
// clean-up, when the kubelet did not remove them.
func removeSandboxes(ctx context.Context, endpoint string) error {
	client, err := cri.Dial(ctx, endpoint)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()
	resp, err := client.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	for _, sb := range resp.Items {
		if _, err := client.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", sb.Id, err)
		}
		if _, err := client.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", sb.Id, err)
		}
	}
	return nil
}

// processesUnder returns the processes whose command line mentions dir:
// a node's containerd and its shims name files under the node's data
// directory, so any left after the node stopped leaked.
func processesUnder(dir string) map[int]string {
	found := map[int]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return found
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " "))
		if strings.Contains(cmdline, dir+"/") {
			found[pid] = cmdline
		}
	}
	return found
}

// waitProcessesGone waits up to timeout for the processes that mention
// dir to exit (a node's containerd exits on its own after its parent;
// shims go with their sandboxes) and returns those left.
func waitProcessesGone(dir string, timeout time.Duration) map[int]string {
	deadline := time.Now().Add(timeout)
	for {
		left := processesUnder(dir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killProcesses kills procs and their descendants (containers), which
// the test started: the last resort of a clean-up.
func killProcesses(procs map[int]string) {
	pids := slices.Collect(maps.Keys(procs))
	// Containers first: a shim killed first would orphan them.
	doomed := descendants(pids)
	slices.Reverse(doomed)
	for _, pid := range append(doomed, pids...) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the descendants of pids, parents before children.
func descendants(pids []int) []int {
	children := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := slices.Clone(pids)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, child := range children[pid] {
			out = append(out, child)
			queue = append(queue, child)
		}
	}
	return out
}

// mustRun runs a command, ending the test if it fails.
func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// randomID is six hex digits: link names must fit in 15 bytes.
func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeSubnet picks a 10.201.x.0/24 that no interface of the host uses.
func freeSubnet(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok {
			if ip := ipnet.IP.To4(); ip != nil {
				used[fmt.Sprintf("%d.%d.%d", ip[0], ip[1], ip[2])] = true
			}
		}
	}
	b := make([]byte, 1)
	for range 100 {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprintf("10.201.%d", 1+int(b[0])%250); !used[s] {
			return s
		}
	}
	t.Fatal("no free 10.201.x.0/24")
	return ""
}
