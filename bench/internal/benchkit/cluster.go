package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// SimulatedClusterCIDR is the pod network benchmarks give tug server: the
// default 10.42.0.0/16 holds only 256 node /24s, this /10 holds 16,384;
// simulated nodes send no traffic.
const SimulatedClusterCIDR = "100.64.0.0/10"

// ClusterOptions say what StartCluster runs.
type ClusterOptions struct {
	// Binary is the tug binary; Dir (made if missing) holds the data
	// directory and the logs.
	Binary, Dir string
	// Nodes is how many simulated nodes the agent runs.
	Nodes int
	// ServerArgs and AgentArgs are added to `tug server` and
	// `tug agent --simulated` (e.g. --disable-scheduler, node capacity).
	ServerArgs, AgentArgs []string
	// UserAgent names the benchmark's client.
	UserAgent string
}

// Cluster is a tug server and a simulated agent, both child processes, and
// an unthrottled protobuf client of the server.
type Cluster struct {
	Server, Agent *Process
	Kubeconfig    string
	Config        *rest.Config
	Client        kubernetes.Interface
}

// StartCluster starts the server, then the agent, and waits until
// o.Nodes simulated nodes are Ready with a pod CIDR.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(o.Dir, "data")
	args := append([]string{"server", "--data-dir", dataDir, "--https-port", strconv.Itoa(ports[0]),
		"--bind-address", "127.0.0.1", "--disable-agent", "--cluster-cidr", SimulatedClusterCIDR}, o.ServerArgs...)
	server, err := StartProcess("tug server", o.Binary, args, filepath.Join(o.Dir, "server.log"))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Server: server, Kubeconfig: filepath.Join(dataDir, "kubeconfig.yaml")}
	if err := WaitBody(ctx, server, fmt.Sprintf("https://127.0.0.1:%d/readyz", ports[0]), "ok", time.Minute); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	c.Config.QPS, c.Config.Burst = -1, 0 // no client-side rate limit
	c.Config.ContentType = "application/vnd.kubernetes.protobuf"
	c.Config.UserAgent = o.UserAgent
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	args = append([]string{"agent", "--simulated", "--nodes", strconv.Itoa(o.Nodes), "--kubeconfig", c.Kubeconfig}, o.AgentArgs...)
	if c.Agent, err = StartProcess("tug agent", o.Binary, args, filepath.Join(o.Dir, "agent.log")); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	if err := c.waitNodesReady(ctx, o.Nodes); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// Failed returns an error once either child has exited.
func (c *Cluster) Failed() error { return errors.Join(c.Server.Exited(), c.Agent.Exited()) }

// waitNodesReady polls until n nodes report Ready, have a pod CIDR and no
// longer carry the network-unavailable taint they register with: until the
// node lifecycle controller lifts it, the scheduler filters the node out,
// and a run started earlier would schedule onto fewer nodes while
// thousands of taint removals compete with its writes.
func (c *Cluster) waitNodesReady(ctx context.Context, n int) error {
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Failed(); err != nil {
			return false, err
		}
		list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil //nolint:nilerr // the server may be busy; poll again
		}
		ready := 0
		for i := range list.Items {
			if n := &list.Items[i]; n.Spec.PodCIDR != "" && nodeReady(n) && !networkTainted(n) {
				ready++
			}
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d Ready nodes: %w", n, err)
	}
	return nil
}

func networkTainted(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNetworkUnavailable {
			return true
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Stop stops the agent, then the server.
func (c *Cluster) Stop() error {
	var errs []error
	if c.Agent != nil {
		errs = append(errs, c.Agent.Stop())
	}
	errs = append(errs, c.Server.Stop())
	return errors.Join(errs...)
}
