package main

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

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// clusterCIDR is the pod network: the default 10.42.0.0/16 holds only 256
// node /24s, this /10 holds 16,384; simulated nodes send no traffic.
const clusterCIDR = "100.64.0.0/10"

// cluster is a tug server, its scheduler and controllers on, and a
// simulated agent, both child processes.
type cluster struct {
	server, agent *benchkit.Process
	config        *rest.Config
	client        kubernetes.Interface
}

// startCluster starts the server and the agent under dir and waits until
// nodes simulated nodes are Ready with a pod CIDR.
func startCluster(ctx context.Context, bin, dir string, nodes int, logf func(string, ...any)) (*cluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	server, err := benchkit.StartProcess("tug server", bin, []string{"server", "--data-dir", dataDir,
		"--https-port", strconv.Itoa(ports[0]), "--bind-address", "127.0.0.1", "--disable-agent",
		"--cluster-cidr", clusterCIDR}, filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	c := &cluster{server: server}
	if err := benchkit.WaitBody(ctx, server, fmt.Sprintf("https://127.0.0.1:%d/readyz", ports[0]), "ok", time.Minute); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	kubeconfig := filepath.Join(dataDir, "kubeconfig.yaml")
	if c.config, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	c.config.QPS, c.config.Burst = -1, 0 // no client-side rate limit
	c.config.ContentType = "application/vnd.kubernetes.protobuf"
	c.config.UserAgent = "tug-bench/controllers"
	if c.client, err = kubernetes.NewForConfig(c.config); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	logf("starting the agent with %d nodes", nodes)
	c.agent, err = benchkit.StartProcess("tug agent", bin, []string{"agent", "--simulated", "--nodes", strconv.Itoa(nodes),
		"--kubeconfig", kubeconfig, "--node-cpu", "32", "--node-memory", "256Gi", "--node-pods", strconv.Itoa(nodePods)},
		filepath.Join(dir, "agent.log"))
	if err != nil {
		return nil, errors.Join(err, c.stop())
	}
	if err := c.waitNodesReady(ctx, nodes); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// failed returns an error once either child has exited.
func (c *cluster) failed() error { return errors.Join(c.server.Exited(), c.agent.Exited()) }

// waitNodesReady polls until n nodes report Ready and have a pod CIDR.
func (c *cluster) waitNodesReady(ctx context.Context, n int) error {
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.failed(); err != nil {
			return false, err
		}
		list, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil //nolint:nilerr // the server may be busy; poll again
		}
		ready := 0
		for i := range list.Items {
			if list.Items[i].Spec.PodCIDR != "" && nodeReady(&list.Items[i]) {
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

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// stop stops the agent, then the server.
func (c *cluster) stop() error {
	var errs []error
	if c.agent != nil {
		errs = append(errs, c.agent.Stop())
	}
	errs = append(errs, c.server.Stop())
	return errors.Join(errs...)
}
