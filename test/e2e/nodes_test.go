package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nodesTimeout bounds each wait for the cluster to converge; generous,
// for a loaded machine.
const nodesTimeout = 90 * time.Second

// simNodes are the nodes the scenario's agent runs.
var simNodes = []string{"sim-0000", "sim-0001", "sim-0002"}

// clusterCIDR is the server's default --cluster-cidr.
const clusterCIDR = "10.42.0.0/16"

// nodesScenario is the state the steps of TestNodes share.
type nodesScenario struct {
	// owner is the top-level test: agents live as long as it does.
	owner *testing.T
	// k is kubectl 1.33 in the scenario's namespace, bound to owner.
	k *kubectl
	// agentArgs is the command line of the agent that joins with the
	// right token.
	agentArgs []string
	// logDir holds the agents' logs.
	logDir string
	// agent is the running agent.
	agent *agent
	// podCIDRs maps each node to its spec.podCIDR.
	podCIDRs map[string]*net.IPNet
	// spreadOn maps each node to the anti-affine pod scheduled there.
	spreadOn map[string]string
}

// TestNodes runs `tug server` and `tug agent --simulated` as processes and
// drives them with kubectl: joining, scheduling, preemption, and nodes
// that die and come back.
func TestNodes(t *testing.T) {
	s := startServer(t, "--node-monitor-grace-period", "4s")
	data, err := os.ReadFile(filepath.Join(s.dataDir, "server", "token"))
	if err != nil {
		t.Fatalf("read the join token: %v", err)
	}
	token := strings.TrimSpace(string(data))
	sc := &nodesScenario{
		owner: t,
		k:     newKubectl(t, s, "1.33", "nodes"),
		// The lease is renewed every quarter of its duration: 4s keeps
		// renewals (1s apart) well inside the 4s grace period, where the
		// default 40s (10s apart) would let nodes go Unknown between them.
		agentArgs: []string{"agent", "--simulated", "--nodes", "3", "--server", s.url, "--token", token,
			"--node-cpu", "2", "--node-memory", "4Gi", "--lease-duration", "4s"},
		logDir:   t.TempDir(),
		podCIDRs: map[string]*net.IPNet{},
		spreadOn: map[string]string{},
	}
	if !t.Run("join", sc.testJoin) {
		t.FailNow() // every later step needs the nodes
	}
	t.Run("scheduling", sc.testScheduling)
	t.Run("preemption", sc.testPreemption)
	t.Run("node-death", sc.testNodeDeath)
	t.Run("node-return", sc.testNodeReturn)
}

// testJoin: an agent with a wrong token is refused; one with the right
// token registers three Ready nodes, each with a pod CIDR and a Lease.
func (sc *nodesScenario) testJoin(t *testing.T) {
	k := sc.k.boundTo(t)
	wrong := withFlag(sc.agentArgs, "--token", "not-the-cluster-token")
	out, code := runAgentToExit(time.Minute, wrong...)
	if code <= 0 || !strings.Contains(out, "token") {
		t.Errorf("tug agent with a wrong token: exit code %d, want > 0 with an error about the token; output:\n%s", code, out)
	}
	k.ok("get", "nodes", "-o", "name").equals(t, "")

	a, err := startAgent(sc.owner, sc.logDir, sc.agentArgs...)
	if err != nil {
		t.Fatal(err)
	}
	sc.agent = a

	readyRow := regexp.MustCompile(`^sim-000[0-2] Ready <none> \S+ v\S+$`)
	poll(t, "three Ready nodes in kubectl get nodes", func() (bool, string) {
		r := k.run("get", "nodes")
		rows := r.rows()
		if len(rows) != 4 || rows[0] != "NAME STATUS ROLES AGE VERSION" {
			return false, r.String()
		}
		for i, row := range rows[1:] {
			if !strings.HasPrefix(row, simNodes[i]+" ") || !readyRow.MatchString(row) {
				return false, r.String()
			}
		}
		return true, ""
	})

	const cidrs = `{range .items[*]}{.metadata.name} {.spec.podCIDR}{"\n"}{end}`
	var lines []string
	poll(t, "a pod CIDR on every node", func() (bool, string) {
		r := k.run("get", "nodes", "-o", "jsonpath="+cidrs)
		lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
		for _, line := range lines {
			if len(strings.Fields(line)) != 2 {
				return false, r.String()
			}
		}
		return len(lines) == len(simNodes), r.String()
	})
	_, cluster, err := net.ParseCIDR(clusterCIDR)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, line := range lines {
		node, cidr, _ := strings.Cut(line, " ")
		ip, ipNet, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Errorf("node %s: spec.podCIDR %q: %v", node, cidr, err)
			continue
		}
		switch ones, _ := ipNet.Mask.Size(); {
		case !cluster.Contains(ip) || ones < 16:
			t.Errorf("node %s: spec.podCIDR %s is not inside %s", node, cidr, clusterCIDR)
		case seen[ipNet.String()] != "":
			t.Errorf("nodes %s and %s share the pod CIDR %s", seen[ipNet.String()], node, cidr)
		}
		seen[ipNet.String()] = node
		sc.podCIDRs[node] = ipNet
	}

	for _, node := range simNodes {
		k.wantField("-n kube-node-lease lease "+node, "{.spec.holderIdentity} {.spec.leaseDurationSeconds}", node+" 4")
		if renew := k.field("-n kube-node-lease lease "+node, "{.spec.renewTime}"); renew == "" {
			t.Errorf("lease of %s has no renewTime", node)
		}
	}
}

// testScheduling: resources, required pod anti-affinity, node selectors,
// failure messages, and pods that run to completion.
func (sc *nodesScenario) testScheduling(t *testing.T) {
	k := sc.k.boundTo(t)
	k.okIn(spreadPods(1, 2, 3), "apply", "-f", "-")
	k.ok("wait", "--for=condition=Ready", "pod", "-l", "group=spread", "--timeout=50s")
	placed := k.ok("get", "pods", "-l", "group=spread", "-o", "wide")
	pods := parseWide(t, placed)
	if len(pods) != 3 {
		t.Errorf("want 3 spread pods:\n%s", placed)
	}
	for _, p := range pods {
		switch cidr := sc.podCIDRs[p.node]; {
		case p.status != "Running":
			t.Errorf("pod %s is %s, want Running:\n%s", p.name, p.status, placed)
		case cidr == nil:
			t.Errorf("pod %s is on %q, not one of the nodes:\n%s", p.name, p.node, placed)
		case sc.spreadOn[p.node] != "":
			t.Errorf("pods %s and %s share node %s despite their anti-affinity:\n%s", sc.spreadOn[p.node], p.name, p.node, placed)
		case !cidr.Contains(net.ParseIP(p.ip)):
			t.Errorf("pod %s has IP %q, outside its node %s's pod CIDR %s:\n%s", p.name, p.ip, p.node, cidr, placed)
		}
		sc.spreadOn[p.node] = p.name
	}

	// A fourth pod of the group has no node left.
	k.okIn(spreadPods(4), "apply", "-f", "-")
	waitFailedScheduling(t, k, "spread-4", "didn't match pod anti-affinity rules")
	k.wantField("pod spread-4", "{.status.phase}/{.spec.nodeName}", "Pending/")

	k.okIn(bigPinnedOnce, "apply", "-f", "-").has(t, "pod/big created", "pod/pinned created", "pod/once created")
	waitFailedScheduling(t, k, "big", "Insufficient cpu")
	k.ok("wait", "--for=condition=Ready", "pod/pinned", "--timeout=50s")
	k.wantField("pod pinned", "{.spec.nodeName}", "sim-0001")
	poll(t, "pod once Succeeded", func() (bool, string) {
		r := k.run("get", "pod", "once", "-o", "jsonpath={.status.phase}")
		return r.stdout == "Succeeded", r.String()
	})
	k.wantField("pod big", "{.status.phase}/{.spec.nodeName}", "Pending/")

	// The oldest kubectl reads the same tables.
	old := k.withMinor(t, "1.30")
	r := old.ok("get", "nodes")
	r.wantTable(t, `NAME STATUS ROLES AGE VERSION`,
		`sim-0000 Ready <none> \S+ v\S+`, `sim-0001 Ready <none> \S+ v\S+`, `sim-0002 Ready <none> \S+ v\S+`)
	const running = `1/1\s+Running\s+0\s+\S+\s+10\.42\.\d+\.\d+\s+`
	old.ok("get", "pods", "-o", "wide").matches(t,
		`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$`,
		`^big\s+0/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$`,
		`^once\s+0/1\s+Completed\s+0\s+\S+\s+10\.42\.\d+\.\d+\s+sim-000[0-2]\s+<none>\s+<none>$`,
		`^pinned\s+`+running+`sim-0001\s+<none>\s+<none>$`,
		`^spread-1\s+`+running+`sim-000[0-2]\s+<none>\s+<none>$`,
		`^spread-2\s+`+running+`sim-000[0-2]\s+<none>\s+<none>$`,
		`^spread-3\s+`+running+`sim-000[0-2]\s+<none>\s+<none>$`,
		`^spread-4\s+0/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$`)
}

// testPreemption: a high-priority pod that fits only by evicting the
// low-priority pod on its node preempts it.
func (sc *nodesScenario) testPreemption(t *testing.T) {
	k := sc.k.boundTo(t)
	victim := sc.spreadOn["sim-0002"]
	if victim == "" {
		t.Fatal("the scheduling step left no spread pod on sim-0002")
	}
	k.okIn(highPriority, "apply", "-f", "-").has(t, "priorityclass.scheduling.k8s.io/high created", "pod/vip created")
	k.wantField("pod vip", "{.spec.priority}", "1000")
	vipUID := k.field("pod vip", "{.metadata.uid}")
	k.ok("wait", "--for=condition=Ready", "pod/vip", "--timeout=50s")
	k.wantField("pod vip", "{.spec.nodeName}", "sim-0002")
	poll(t, "victim "+victim+" deleted", func() (bool, string) {
		r := k.run("get", "pod", victim)
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})
	want := "Preempted|Preempted by pod " + vipUID + " on node sim-0002"
	poll(t, "a Preempted event for "+victim, func() (bool, string) {
		r := k.run("get", "events", "--field-selector", "involvedObject.name="+victim,
			"-o", `jsonpath={range .items[*]}{.reason}|{.message}{"\n"}{end}`)
		return strings.Contains(r.stdout, want+"\n"), fmt.Sprintf("want a line %q in\n%s", want, r)
	})
}

// testNodeDeath: when the agent is killed, its nodes go Unknown and get
// the unreachable taints, and pods are evicted once their toleration of
// the taint runs out.
func (sc *nodesScenario) testNodeDeath(t *testing.T) {
	k := sc.k.boundTo(t)
	k.okIn(tolerantPods, "apply", "-f", "-").has(t, "pod/brief created", "pod/patient created")
	k.ok("wait", "--for=condition=Ready", "pod/brief", "pod/patient", "--timeout=50s")
	const unreachable = `{.spec.tolerations[?(@.key=="node.kubernetes.io/unreachable")].tolerationSeconds}`
	k.wantField("pod brief", unreachable, "2")
	k.wantField("pod patient", unreachable, "300") // DefaultTolerationSeconds admission

	if err := sc.agent.kill(); err != nil {
		t.Fatal(err)
	}
	wantNodes(t, k, "Unknown", "node.kubernetes.io/unreachable")
	k.ok("get", "nodes").wantTable(t, `NAME STATUS ROLES AGE VERSION`,
		`sim-0000 NotReady <none> \S+ v\S+`, `sim-0001 NotReady <none> \S+ v\S+`, `sim-0002 NotReady <none> \S+ v\S+`)

	poll(t, "pod brief marked for deletion", func() (bool, string) {
		r := k.run("get", "pod", "brief", "-o", "jsonpath={.metadata.deletionTimestamp}")
		return r.code == 0 && r.stdout != "", r.String()
	})
	k.wantField("pod patient", "{.metadata.deletionTimestamp}", "")
	// No agent is there to finish the deletion.
	k.ok("get", "pod", "brief").matches(t, `^brief\s+\S+\s+Terminating\s`)
}

// testNodeReturn: the restarted agent brings its nodes back Ready and
// untainted, finishes the pending deletion, and its pods are Ready again.
func (sc *nodesScenario) testNodeReturn(t *testing.T) {
	k := sc.k.boundTo(t)
	a, err := startAgent(sc.owner, sc.logDir, sc.agentArgs...)
	if err != nil {
		t.Fatal(err)
	}
	sc.agent = a
	wantNodes(t, k, "True", "")
	k.ok("get", "nodes").wantTable(t, `NAME STATUS ROLES AGE VERSION`,
		`sim-0000 Ready <none> \S+ v\S+`, `sim-0001 Ready <none> \S+ v\S+`, `sim-0002 Ready <none> \S+ v\S+`)
	k.ok("get", "nodes", "-o", `jsonpath={range .items[*]}{.spec.taints}{end}`).equals(t, "")
	poll(t, "pod brief deleted by the agent", func() (bool, string) {
		r := k.run("get", "pod", "brief")
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})
	// The node controller set these pods' Ready condition False while
	// their node was unreachable; a kubelet that is back reports them
	// again.
	if r := k.run("wait", "--for=condition=Ready", "pod/patient", "pod/pinned", "--timeout=50s"); r.code != 0 {
		t.Errorf("pods not Ready again after their node returned:\n%s\n%s", r,
			k.run("get", "pod", "patient", "-o", "jsonpath={.status.conditions}"))
	}
}

// wantNodes waits until every node's Ready condition is ready and its
// NoExecute taints are noExecute (keys joined by spaces).
func wantNodes(t *testing.T, k *kubectl, ready, noExecute string) {
	t.Helper()
	const path = `{range .items[*]}{.metadata.name}:{.status.conditions[?(@.type=="Ready")].status}:` +
		`{.spec.taints[?(@.effect=="NoExecute")].key}{"\n"}{end}`
	var want strings.Builder
	for _, node := range simNodes {
		fmt.Fprintf(&want, "%s:%s:%s\n", node, ready, noExecute)
	}
	poll(t, "nodes "+ready+" with NoExecute taints ["+noExecute+"]", func() (bool, string) {
		r := k.run("get", "nodes", "-o", "jsonpath="+path)
		return r.stdout == want.String(), fmt.Sprintf("want:\n%s%s", want.String(), r)
	})
}

// failedScheduling matches a FailedScheduling event in kubectl describe;
// the age column may read "3s (x2 over 5s)".
var failedScheduling = regexp.MustCompile(`(?m)^\s*Warning\s+FailedScheduling\s+.*?\s+default-scheduler\s+(.*)$`)

// waitFailedScheduling waits until kubectl describe shows pod with a
// FailedScheduling event whose message starts as a scheduler fit error
// over the three nodes does and holds reason.
func waitFailedScheduling(t *testing.T, k *kubectl, pod, reason string) {
	t.Helper()
	poll(t, "a FailedScheduling event for "+pod+" with "+reason, func() (bool, string) {
		r := k.run("describe", "pod", pod)
		for _, m := range failedScheduling.FindAllStringSubmatch(r.stdout, -1) {
			if strings.HasPrefix(m[1], "0/3 nodes are available:") && strings.Contains(m[1], reason) {
				return true, ""
			}
		}
		return false, r.String()
	})
}

// poll calls cond every 200ms until it returns true or nodesTimeout
// passes; then it reports an error with cond's last description.
func poll(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(nodesTimeout)
	for {
		done, last := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: not within %v; last:\n%s", what, nodesTimeout, last)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// boundTo returns a copy of k that reports to t, for use in a subtest.
func (k *kubectl) boundTo(t *testing.T) *kubectl {
	c := *k
	c.t = t
	return &c
}

// withMinor returns a copy of k, reporting to t, that runs another
// kubectl release against the same namespace.
func (k *kubectl) withMinor(t *testing.T, minor string) *kubectl {
	t.Helper()
	c := k.boundTo(t)
	c.minor = minor
	c.bin = filepath.Join(kubectlDir, "kubectl."+minor)
	if _, err := os.Stat(c.bin); err != nil {
		t.Fatalf("kubectl %s: %v", minor, err)
	}
	return c
}

// widePod is one row of kubectl get pods -o wide.
type widePod struct{ name, status, ip, node string }

// parseWide reads the table of kubectl get pods -o wide by its header.
func parseWide(t *testing.T, r result) []widePod {
	t.Helper()
	rows := r.rows()
	col := map[string]int{}
	for i, h := range strings.Fields(rows[0]) {
		if _, dup := col[h]; !dup { // "NOMINATED NODE" comes after NODE
			col[h] = i
		}
	}
	for _, h := range []string{"NAME", "STATUS", "IP", "NODE"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("no %s column:\n%s", h, r)
		}
	}
	var pods []widePod
	for _, row := range rows[1:] {
		f := strings.Fields(row)
		if len(f) <= col["NODE"] {
			t.Fatalf("short row %q:\n%s", row, r)
		}
		pods = append(pods, widePod{name: f[col["NAME"]], status: f[col["STATUS"]], ip: f[col["IP"]], node: f[col["NODE"]]})
	}
	return pods
}

// withFlag returns args with the value after flag replaced.
func withFlag(args []string, flag, value string) []string {
	out := append([]string(nil), args...)
	for i := range len(out) - 1 {
		if out[i] == flag {
			out[i+1] = value
		}
	}
	return out
}

// spreadPods are pods spread-<n> for each of nums: 500m of CPU each, and
// none on a node with another of the group.
func spreadPods(nums ...int) string {
	var b strings.Builder
	for _, n := range nums {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata:
  name: spread-%d
  labels:
    group: spread
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchLabels:
            group: spread
        topologyKey: kubernetes.io/hostname
  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests:
        cpu: 500m
`, n)
	}
	return b.String()
}

// bigPinnedOnce: a pod larger than any node, a pod pinned to sim-0001 by
// its node selector, and a pod that runs to completion.
const bigPinnedOnce = `apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests:
        cpu: "3"
---
apiVersion: v1
kind: Pod
metadata:
  name: pinned
spec:
  nodeSelector:
    kubernetes.io/hostname: sim-0001
  containers:
  - name: app
    image: busybox:1.36
---
apiVersion: v1
kind: Pod
metadata:
  name: once
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox:1.36
    command: ["true"]
`

// highPriority is a PriorityClass and a pod of it that must run on
// sim-0002. Its 1600m do not fit beside the 500m spread pod there on a
// 2-CPU node (1500m would, exactly), so it has to preempt that pod.
const highPriority = `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000
---
apiVersion: v1
kind: Pod
metadata:
  name: vip
spec:
  priorityClassName: high
  nodeSelector:
    kubernetes.io/hostname: sim-0002
  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests:
        cpu: 1600m
`

// tolerantPods: brief tolerates its node being unreachable for 2s,
// patient gets the default 300s from admission.
const tolerantPods = `apiVersion: v1
kind: Pod
metadata:
  name: brief
spec:
  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: 2
  containers:
  - name: app
    image: busybox:1.36
---
apiVersion: v1
kind: Pod
metadata:
  name: patient
spec:
  containers:
  - name: app
    image: busybox:1.36
`
