package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/runtime/containerd"
)

// Images of the node agent tests: busybox, which every node imports at
// start from <data-dir>/agent/images, and an image that only `tug images
// import` brings to a node.
const (
	busyboxRef  = "tug.local/busybox:1"
	importedRef = "tug.local/e2e-imported:1"
	// greeting is the content of /etc/greeting in the imported image.
	greeting = "from the imported image\n"
)

// installHint is what tug prints when a node's runtime is missing.
const installHint = "apt-get install containerd runc containernetworking-plugins"

// nodeAgentTimeout bounds each wait for a node, a pod or a runtime to
// converge; generous, for a loaded machine.
const nodeAgentTimeout = 2 * time.Minute

// agentScenario is the state the steps of TestNodeAgent share.
type agentScenario struct {
	net *testNet
	// srv is the API server as the kubectl helpers see it.
	srv *server
	// client is client-go with the admin kubeconfig, for clean-up.
	client kubernetes.Interface
	// k is kubectl 1.33 in the scenario's namespace.
	k *kubectl
	// server runs `tug server`; joined runs `tug agent`.
	server, joined *machine
}

// TestNodeAgent runs `tug server` with its own node agent in one network
// namespace and `tug agent` in another, both on a bridge of the test's,
// and drives them with kubectl: pods run on each node, `kubectl logs` and
// `kubectl exec` reach them through the API server and their kubelet,
// `tug images import` brings an image to a node, and deleted pods leave
// no sandbox behind.
func TestNodeAgent(t *testing.T) {
	recordSources(t)
	if err := containerd.CheckBinaries(); err != nil {
		t.Fatal(err) // a machine without them cannot test the node agent
	}
	start := time.Now()
	sc := &agentScenario{net: newTestNet(t)}
	sc.startServer(t)
	sc.k = newKubectl(t, sc.srv, "1.33", "node-agent")
	if !t.Run("server-node", sc.testServerNode) {
		t.FailNow() // every later step needs the server's node
	}
	t.Run("images-import", sc.testImagesImport)
	sc.startJoined(t)
	if t.Run("join", sc.testJoin) {
		t.Run("exec", sc.testExec)
		t.Run("proxy", sc.testProxy)
	}
	t.Run("teardown", sc.testTeardown)
	t.Logf("scenario took %v (before stopping the machines)", time.Since(start).Round(time.Second))
}

// newMachine creates the network namespace and data directory of a
// machine at <subnet>.host, with the busybox image where the agent
// imports images from at start.
func (sc *agentScenario) newMachine(t *testing.T, host int, node string) *machine {
	t.Helper()
	netns, ip := sc.net.addMachine(t, host)
	m := &machine{node: node, ip: ip, netns: netns, dataDir: t.TempDir()}
	writeImage(t, filepath.Join(m.dataDir, "agent", "images", "busybox.tar"), busyboxImage(t, busyboxRef))
	return m
}

// nodeArgs are the flags that put a machine's node on its address, with
// its pod logs under its data directory.
func (m *machine) nodeArgs() []string {
	return []string{"--data-dir", m.dataDir, "--node-name", m.node, "--node-ip", m.ip,
		"--pod-logs-dir", filepath.Join(m.dataDir, "pod-logs"), "-v", "2",
		// Nothing may leave the test's bridge: no SNAT, no upstream DNS.
		"--masquerade=false", "--disable-dns-forwarding"}
}

// startServer starts `tug server`, in its default mode, listening on its
// machine's address, and waits until it is ready. When the test ends the
// machine is stopped (see stopMachine).
func (sc *agentScenario) startServer(t *testing.T) {
	t.Helper()
	m := sc.newMachine(t, 2, "tug-server")
	sc.server = m
	args := append([]string{"server", "--bind-address", m.ip}, m.nodeArgs()...)
	m.proc = startInNetNS(t, m.netns, filepath.Join(t.TempDir(), "server.log"), args...)
	t.Cleanup(func() { sc.stopMachine(t, m) })
	sc.srv = &server{
		dataDir:    m.dataDir,
		kubeconfig: filepath.Join(m.dataDir, "kubeconfig.yaml"),
		url:        "https://" + m.ip + ":6443",
		log:        m.proc.log,
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if exited, err := m.proc.hasExited(); exited {
			t.Fatalf("tug server exited before it was ready (%v):\n%s", err, tail(m.proc.log, 30))
		}
		body, err := sc.srv.readyz()
		if err == nil && body == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tug server: /readyz not ok within 60s: %q %v\n%s", body, err, tail(m.proc.log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	sc.client = newClient(t, sc.srv.kubeconfig)
}

// startJoined starts `tug agent` on a second machine, joining with the
// server's URL and join token. When the test ends the machine is stopped.
func (sc *agentScenario) startJoined(t *testing.T) {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(sc.server.dataDir, "server", "token"))
	if err != nil {
		t.Fatalf("read the join token: %v", err)
	}
	m := sc.newMachine(t, 11, "tug-agent")
	sc.joined = m
	args := append([]string{"agent", "--server", sc.srv.url, "--token", strings.TrimSpace(string(token))}, m.nodeArgs()...)
	m.proc = startInNetNS(t, m.netns, filepath.Join(t.TempDir(), "agent.log"), args...)
	t.Cleanup(func() { sc.stopMachine(t, m) })
}

// testServerNode: the server's own node registers with its address and
// becomes Ready; a busybox pod is scheduled to it, runs, and kubectl logs
// shows what it printed.
func (sc *agentScenario) testServerNode(t *testing.T) {
	k := sc.k.boundTo(t)
	sc.waitNodesReady(t, sc.server)
	k.wantField("node "+sc.server.node, `{.status.addresses[?(@.type=="InternalIP")].address}`, sc.server.ip)
	k.okIn(podJSON(t, "hello", busyboxRef, "", "echo hello from $(hostname); exec sleep 3600"), "apply", "-f", "-")
	sc.waitRunning(t, "hello", sc.server)
	wantCleanupSees(t, sc.server)
	// The container's hostname is its pod's name.
	if got := k.ok("logs", "hello").stdout; got != "hello from hello\n" {
		t.Errorf("kubectl logs hello = %q, want %q", got, "hello from hello\n")
	}
}

// testImagesImport: a pod of an image the node lacks does not start
// (imagePullPolicy Never); after `tug images import` of that image into
// the server's node, the same pod runs and shows the image's file.
func (sc *agentScenario) testImagesImport(t *testing.T) {
	k := sc.k.boundTo(t)
	archive := filepath.Join(t.TempDir(), "imported.tar")
	img := busyboxImage(t, importedRef)
	img.Files = append(img.Files, images.File{Path: "/etc/greeting", Mode: 0o644, Data: []byte(greeting)})
	writeImage(t, archive, img)
	script := "cat /etc/greeting; exec sleep 3600"

	k.okIn(podJSON(t, "before-import", importedRef, sc.server.node, script), "apply", "-f", "-")
	poll(t, "before-import waiting with ErrImageNeverPull", func() (bool, string) {
		r := k.run("get", "pod", "before-import", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
		return r.stdout == "ErrImageNeverPull", r.String()
	})
	k.ok("delete", "pod", "before-import", "--grace-period=0", "--force")

	out, code := runAgentToExit(time.Minute, "images", "import", "--data-dir", sc.server.dataDir, archive)
	if want := "imported " + archive + ": " + importedRef + "\n"; code != 0 || out != want {
		t.Fatalf("tug images import: exit code %d, output %q; want 0 and %q", code, out, want)
	}
	k.okIn(podJSON(t, "imported", importedRef, sc.server.node, script), "apply", "-f", "-")
	sc.waitRunning(t, "imported", sc.server)
	if got := k.ok("logs", "imported").stdout; got != greeting {
		t.Errorf("kubectl logs imported = %q, want %q", got, greeting)
	}
}

// testJoin: the joined machine's node registers and both nodes are
// Ready; a pod pinned to the joined node runs there, and its logs come
// through the API server from that node's kubelet.
func (sc *agentScenario) testJoin(t *testing.T) {
	k := sc.k.boundTo(t)
	sc.waitNodesReady(t, sc.joined, sc.server)
	k.wantField("node "+sc.joined.node, `{.status.addresses[?(@.type=="InternalIP")].address}`, sc.joined.ip)
	k.okIn(podJSON(t, "pinned", busyboxRef, sc.joined.node, "echo hello from $(hostname); exec sleep 3600"), "apply", "-f", "-")
	sc.waitRunning(t, "pinned", sc.joined)
	wantCleanupSees(t, sc.joined)
	if got := k.ok("logs", "pinned").stdout; got != "hello from pinned\n" {
		t.Errorf("kubectl logs pinned = %q, want %q", got, "hello from pinned\n")
	}
}

// testExec: kubectl exec into the pod on the joined node, through the API
// server and that node's kubelet, with a WebSocket kubectl (1.33) and an
// SPDY one (1.29): output, stdin and the exit code come through.
func (sc *agentScenario) testExec(t *testing.T) {
	for _, minor := range []string{"1.33", "1.29"} {
		t.Run(minor, func(t *testing.T) {
			k := sc.k.withMinor(t, minor)
			got := k.ok("exec", "pinned", "--", "sh", "-c", "echo $((6*7)) in $(hostname)").stdout
			if want := "42 in pinned\n"; got != want {
				t.Errorf("kubectl exec = %q, want %q", got, want)
			}
			if got := k.okIn("through stdin\n", "exec", "-i", "pinned", "--", "cat").stdout; got != "through stdin\n" {
				t.Errorf("kubectl exec -i cat = %q, want %q", got, "through stdin\n")
			}
			if r := k.run("exec", "pinned", "--", "sh", "-c", "exit 3"); r.code != 3 {
				t.Errorf("kubectl exec of exit 3: want exit code 3:\n%s", r)
			}
		})
	}
}

// testProxy: the API server, on its own node, reaches a pod on the joined
// node through pods/proxy and through services/proxy (the pod network and
// the routes between the nodes carry it).
func (sc *agentScenario) testProxy(t *testing.T) {
	k := sc.k.boundTo(t)
	pod := podJSON(t, "web", busyboxRef, sc.joined.node, "mkdir -p /www && echo proxied > /www/index.html && exec httpd -f -p 8080 -h /www")
	pod = strings.Replace(pod, `"metadata":{"name":"web"`, `"metadata":{"name":"web","labels":{"app":"web"}`, 1)
	k.okIn(pod, "apply", "-f", "-")
	sc.waitRunning(t, "web", sc.joined)
	k.ok("create", "service", "clusterip", "web", "--tcp=80:8080")
	for _, path := range []string{
		"/api/v1/namespaces/node-agent/pods/web:8080/proxy/index.html",
		"/api/v1/namespaces/node-agent/services/web:80/proxy/index.html",
		"/api/v1/namespaces/node-agent/services/http:web:80/proxy/index.html",
	} {
		poll(t, "GET "+path, func() (bool, string) {
			r := k.run("get", "--raw", path)
			return r.code == 0 && r.stdout == "proxied\n", r.String()
		})
	}
	if r := k.run("get", "--raw", "/api/v1/namespaces/node-agent/services/web:81/proxy/"); r.code == 0 || !strings.Contains(r.stderr, "no service port") {
		t.Errorf("services/proxy to a port the service lacks: want an error naming it:\n%s", r)
	}
}

// testTeardown: deleting the pods (gracefully, as a user does) removes
// them from the API, and each node's kubelet removes their sandboxes
// from its runtime.
func (sc *agentScenario) testTeardown(t *testing.T) {
	k := sc.k.boundTo(t)
	k.ok("delete", "pods", "--all", "--timeout=50s")
	if rows := k.ok("get", "pods", "-o", "name").stdout; rows != "" {
		t.Errorf("pods left after kubectl delete pods --all:\n%s", rows)
	}
	for _, m := range []*machine{sc.server, sc.joined} {
		if err := waitNoSandboxes(m.endpoint()); err != nil {
			t.Errorf("node %s: %v", m.node, err)
		}
	}
}

// wantCleanupSees checks that the clean-up's probes see the pods running
// on m's node: sandboxes in its runtime and shims among the processes
// that name its data directory. Without them, their finding nothing at
// the end would prove nothing.
func wantCleanupSees(t *testing.T, m *machine) {
	t.Helper()
	ids, err := sandboxIDs(context.Background(), m.endpoint())
	if err != nil || len(ids) == 0 {
		t.Errorf("node %s runs a pod, but its runtime at %s lists sandboxes %v (%v)", m.node, m.endpoint(), ids, err)
	}
	shims := 0
	for _, cmdline := range processesUnder(m.dataDir) {
		if strings.Contains(cmdline, "containerd-shim") {
			shims++
		}
	}
	if shims == 0 {
		t.Errorf("node %s runs a pod, but no containerd shim names its data directory %s", m.node, m.dataDir)
	}
}

// waitNodesReady waits until the nodes of machines, and only those, are
// Ready; it ends the test if they are not, or a machine's process exits.
func (sc *agentScenario) waitNodesReady(t *testing.T, machines ...*machine) {
	t.Helper()
	var names []string
	for _, m := range machines {
		names = append(names, m.node+"=True")
	}
	slices.Sort(names)
	want := strings.Join(names, "\n") + "\n"
	const path = `{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`
	sc.wait(t, "nodes Ready: "+strings.Join(names, " "), func() (bool, string) {
		r := sc.k.boundTo(t).run("get", "nodes", "-o", "jsonpath="+path)
		return r.stdout == want, fmt.Sprintf("want:\n%s%s", want, r)
	})
}

// waitRunning waits until pod runs on m's node and is Ready.
func (sc *agentScenario) waitRunning(t *testing.T, pod string, m *machine) {
	t.Helper()
	k := sc.k.boundTo(t)
	const path = `{.spec.nodeName} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}`
	want := m.node + " Running True"
	sc.wait(t, "pod "+pod+" running on "+m.node, func() (bool, string) {
		r := k.run("get", "pod", pod, "-o", "jsonpath="+path)
		if r.stdout == want {
			return true, ""
		}
		return false, fmt.Sprintf("want %q\n%s\n%s", want, r, k.run("describe", "pod", pod).stdout)
	})
}

// wait polls cond every 200ms until it holds; it ends the test if it does
// not within nodeAgentTimeout, or if a machine's process exits meanwhile.
func (sc *agentScenario) wait(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(nodeAgentTimeout)
	for {
		done, last := cond()
		if done {
			return
		}
		for _, m := range []*machine{sc.server, sc.joined} {
			if m == nil {
				continue
			}
			if exited, err := m.proc.hasExited(); exited {
				t.Fatalf("%s: tug on %s exited (%v):\n%s", what, m.node, err, tail(m.proc.log, 30))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last:\n%s", what, nodeAgentTimeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopMachine stops a machine so that nothing of it outlives the test:
// it deletes the pods bound to its node and waits until its kubelet has
// removed their sandboxes (removing them through the runtime itself if
// the kubelet does not, which fails the test), sends SIGTERM to tug and
// waits for a clean exit, and checks that its containerd and shims are
// gone. Shims left behind fail the test and are removed with their
// sandboxes by a containerd the test starts on the node's config.
func (sc *agentScenario) stopMachine(t *testing.T, m *machine) {
	if m.proc == nil {
		return
	}
	if exited, _ := m.proc.hasExited(); !exited {
		sc.drain(t, m)
	}
	if err := m.proc.stop(t); err != nil {
		t.Errorf("tug on %s: %v", m.node, err)
	}
	if left := waitProcessesGone(m.dataDir, 30*time.Second); len(left) > 0 {
		for pid, cmdline := range left {
			t.Errorf("process %d outlived the node %s: %s", pid, m.node, cmdline)
		}
		m.rescue(t)
		killProcesses(waitProcessesGone(m.dataDir, 10*time.Second))
	}
	if t.Failed() {
		t.Logf("tail of the log of tug on %s (%s):\n%s", m.node, m.proc.log, tail(m.proc.log, 40))
	}
}

// drain deletes the pods bound to m's node and waits for its runtime to
// have no sandboxes.
func (sc *agentScenario) drain(t *testing.T, m *machine) {
	ctx, cancel := context.WithTimeout(context.Background(), nodeAgentTimeout)
	defer cancel()
	if sc.client != nil {
		pods, err := sc.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + m.node})
		if err != nil {
			t.Errorf("clean-up: list the pods of %s: %v", m.node, err)
		} else {
			for _, pod := range pods.Items {
				err := sc.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("clean-up: delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
				}
			}
		}
	}
	if err := waitNoSandboxes(m.endpoint()); err != nil {
		t.Errorf("clean-up of node %s: %v; removing them through the runtime", m.node, err)
		if err := removeSandboxes(ctx, m.endpoint()); err != nil {
			t.Errorf("clean-up of node %s: %v", m.node, err)
		}
	}
}

// podJSON is a pod of one busybox-like container running sh -c script,
// on node if it is not empty (through a node selector, so the scheduler
// places it), with an image that must already be on the node.
func podJSON(t *testing.T, name, image, node, script string) string {
	t.Helper()
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64(2)),
			Containers: []corev1.Container{{
				Name: "main", Image: image, ImagePullPolicy: corev1.PullNever,
				Command: []string{"sh", "-c", script},
			}},
		},
	}
	if node != "" {
		pod.Spec.NodeSelector = map[string]string{corev1.LabelHostname: node}
	}
	data, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// busyboxImage is the busybox image named ref.
func busyboxImage(t *testing.T, ref string) images.Image {
	t.Helper()
	img, err := images.BusyboxImage(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// writeImage writes img as an image archive at path.
func writeImage(t *testing.T, path string, img images.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(images.WriteArchive(f, img), f.Close()); err != nil {
		t.Fatalf("write image %s: %v", path, err)
	}
}

// TestNodeAgentNeedsRuntime: `tug server` (in its default mode, with a
// node agent) and `tug agent` on a machine without containerd or runc on
// PATH exit at once with exit code 1, name what is missing and the
// Debian packages to install, and start nothing.
func TestNodeAgentNeedsRuntime(t *testing.T) {
	recordSources(t)
	// A PATH with containerd and ctr but without runc.
	noRunc := t.TempDir()
	for _, prog := range []string{"containerd", "ctr"} {
		path, err := exec.LookPath(prog)
		if err != nil {
			t.Fatalf("this test needs %s on PATH: %v", prog, err)
		}
		if err := os.Symlink(path, filepath.Join(noRunc, prog)); err != nil {
			t.Fatal(err)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, missing string
	}{
		{"nothing", "/nonexistent", "containerd (not on PATH)"},
		{"no-runc", noRunc, "runc (not on PATH)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				// Loopback only, should the check be missed and the server
				// start after all.
				{"server", "--bind-address", "127.0.0.1", "--https-port", fmt.Sprint(port)},
				{"agent", "--server", "https://127.0.0.1:1", "--token", "unused", "--node-ip", "127.0.0.1"},
			} {
				dataDir := t.TempDir()
				args = append(args, "--data-dir", dataDir)
				stdout, stderr, code := runWithPath(t, tc.path, args...)
				if code != 1 || !strings.Contains(stderr, tc.missing) || !strings.Contains(stderr, installHint) {
					t.Errorf("PATH=%s tug %s: exit code %d, stderr:\n%s\nstdout:\n%s\nwant exit code 1 and a message naming %q and %q",
						tc.path, strings.Join(args, " "), code, stderr, stdout, tc.missing, installHint)
				}
				// Nothing started: no database, certificates or containerd.
				for _, dir := range []string{"server", filepath.Join("agent", "containerd")} {
					if _, err := os.Stat(filepath.Join(dataDir, dir)); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("tug %s created %s before it checked for the runtime (%v)", args[0], dir, err)
					}
				}
			}
		})
	}
}

// runWithPath runs the built tug binary with PATH set to path and waits
// up to a minute for it to exit; it returns its output and exit code, -1
// if it had to be killed.
func runWithPath(t *testing.T, path string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tugBinary, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = []string{"PATH=" + path, "HOME=" + t.TempDir()}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out.String(), errOut.String() + "\n[killed after 1m]", -1
	case errors.As(err, &exitErr):
		return out.String(), errOut.String(), exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run tug %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), 0
}
