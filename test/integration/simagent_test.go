package integration

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/agent"
	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestSimulatedAgent runs `tug agent --simulated` in-process against a
// real server: its nodes register Ready with pod CIDRs and renewed leases,
// and pods bound to them run, complete and go away when deleted.
func TestSimulatedAgent(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()

	agentCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(agentCtx, agent.Options{
			Simulated: true, Kubeconfig: s.Kubeconfig, Nodes: 3,
			LeaseDuration: 4 * time.Second, PodCompletionTime: time.Second,
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})

	names := []string{"sim-0000", "sim-0001", "sim-0002"}
	cidrs := map[string]netip.Prefix{}
	simWait(t, "3 nodes Ready with pod CIDRs", func() (bool, error) {
		for _, name := range names {
			node, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if !simNodeReady(node) || node.Spec.PodCIDR == "" {
				return false, nil
			}
			cidr, err := netip.ParsePrefix(node.Spec.PodCIDR)
			if err != nil {
				return false, err
			}
			if !netip.MustParsePrefix("10.42.0.0/16").Contains(cidr.Addr()) || cidr.Bits() != 24 {
				t.Fatalf("node %s pod CIDR %s, want a /24 of 10.42.0.0/16", name, cidr)
			}
			cidrs[name] = cidr
		}
		return true, nil
	})
	if len(cidrs) != 3 || cidrs["sim-0000"] == cidrs["sim-0001"] || cidrs["sim-0001"] == cidrs["sim-0002"] || cidrs["sim-0000"] == cidrs["sim-0002"] {
		t.Errorf("pod CIDRs = %v, want three different ones", cidrs)
	}

	t.Run("leases renewed", func(t *testing.T) {
		leases := c.CoordinationV1().Leases(corev1.NamespaceNodeLease)
		first := map[string]time.Time{}
		simWait(t, "leases exist", func() (bool, error) {
			for _, name := range names {
				lease, err := leases.Get(ctx, name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					return false, nil
				}
				if err != nil {
					return false, err
				}
				if *lease.Spec.HolderIdentity != name || len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].Kind != "Node" {
					t.Fatalf("lease %s = %+v, want held by and owned by its node", name, lease)
				}
				first[name] = lease.Spec.RenewTime.Time
			}
			return true, nil
		})
		// Renewed every second (a quarter of 4s).
		simWait(t, "leases renewed", func() (bool, error) {
			for _, name := range names {
				lease, err := leases.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				if !lease.Spec.RenewTime.After(first[name]) {
					return false, nil
				}
			}
			return true, nil
		})
	})

	t.Run("pod runs with an address of its node", func(t *testing.T) {
		simCreatePod(t, c, "web", "sim-0001", corev1.RestartPolicyAlways)
		pod := simWaitPhase(t, c, "web", corev1.PodRunning)
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil || !cidrs["sim-0001"].Contains(ip) {
			t.Errorf("pod IP %q, want one in %s", pod.Status.PodIP, cidrs["sim-0001"])
		}
		if pod.Status.HostIP != "198.18.0.2" || pod.Status.StartTime == nil || len(pod.Status.ContainerStatuses) != 1 ||
			!pod.Status.ContainerStatuses[0].Ready || pod.Status.ContainerStatuses[0].State.Running == nil {
			t.Errorf("status = %+v, want host IP 198.18.0.2, started, container ready and running", pod.Status)
		}
	})

	t.Run("restartPolicy Never pod succeeds", func(t *testing.T) {
		simCreatePod(t, c, "job", "sim-0002", corev1.RestartPolicyNever)
		pod := simWaitPhase(t, c, "job", corev1.PodSucceeded)
		if term := pod.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 0 {
			t.Errorf("container state = %+v, want terminated with exit code 0", pod.Status.ContainerStatuses[0].State)
		}
	})

	t.Run("deleted pod goes away", func(t *testing.T) {
		simCreatePod(t, c, "doomed", "sim-0000", corev1.RestartPolicyAlways)
		simWaitPhase(t, c, "doomed", corev1.PodRunning)
		if err := c.CoreV1().Pods("default").Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		simWait(t, "deleted pod removed", func() (bool, error) {
			_, err := c.CoreV1().Pods("default").Get(ctx, "doomed", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
	})

	t.Run("kubectl get nodes", func(t *testing.T) {
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "get", "nodes")
		if err != nil {
			t.Fatalf("kubectl get nodes: %v\n%s", err, out)
		}
		for _, name := range names {
			if !simLineHas(out, name, "Ready") {
				t.Errorf("kubectl get nodes does not show %s Ready:\n%s", name, out)
			}
		}
	})
}

// TestSimulatedAgentMoreNodesThanPodCIDRs runs more simulated nodes than
// the cluster CIDR has node CIDRs for (tug issue 4: 300 nodes on the
// default /16's 256 left 1 pod in 7 Pending for good). The node without a
// pod CIDR says its network is unavailable, so the scheduler binds every
// pod to the nodes that have one, and they all run.
func TestSimulatedAgentMoreNodesThanPodCIDRs(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) { o.ClusterCIDR = "10.42.0.0/23" }) // two /24s
	c := s.Client
	ctx := context.Background()

	agentCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(agentCtx, agent.Options{Simulated: true, Kubeconfig: s.Kubeconfig, Nodes: 3})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})

	var withoutCIDR string
	simWait(t, "3 nodes Ready, 2 with pod CIDRs", func() (bool, error) {
		nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 3 {
			return false, err
		}
		withCIDR := 0
		for i := range nodes.Items {
			node := &nodes.Items[i]
			if !simNodeReady(node) {
				return false, nil
			}
			if node.Spec.PodCIDR != "" {
				withCIDR++
			} else {
				withoutCIDR = node.Name
			}
		}
		return withCIDR == 2, nil
	})

	const pods = 30
	for i := range pods {
		_, err := c.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	simWait(t, "every pod Running", func() (bool, error) {
		list, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running := 0
		for _, pod := range list.Items {
			if pod.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == pods, nil
	})
	list, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range list.Items {
		if pod.Spec.NodeName == withoutCIDR {
			t.Errorf("pod %s bound to %s, which has no pod CIDR", pod.Name, withoutCIDR)
		}
	}
	node, err := c.CoreV1().Nodes().Get(ctx, withoutCIDR, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if simCondition(node, corev1.NodeNetworkUnavailable) != corev1.ConditionTrue {
		t.Errorf("node %s without a pod CIDR: conditions %+v, want NetworkUnavailable True", withoutCIDR, node.Status.Conditions)
	}
}

// simCondition is the status of node's condition typ, or "".
func simCondition(node *corev1.Node, typ corev1.NodeConditionType) corev1.ConditionStatus {
	for _, cond := range node.Status.Conditions {
		if cond.Type == typ {
			return cond.Status
		}
	}
	return ""
}

func simNodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func simCreatePod(t *testing.T, c kubernetes.Interface, name, node string, policy corev1.RestartPolicy) {
	t.Helper()
	_, err := c.CoreV1().Pods("default").Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: policy,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func simWaitPhase(t *testing.T, c kubernetes.Interface, name string, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	simWait(t, "pod "+name+" "+string(phase), func() (bool, error) {
		var err error
		pod, err = c.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		return err == nil && pod.Status.Phase == phase, err
	})
	return pod
}

// simWait polls cond for up to 30s.
func simWait(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond() })
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// simLineHas reports whether a line of out starts with name and has
// status as a column.
func simLineHas(out, name, status string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == name && fields[1] == status {
			return true
		}
	}
	return false
}
