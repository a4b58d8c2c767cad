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

// cluster is a tug server with its scheduler disabled and a simulated
// agent carrying the shape's nodes, both child processes.
type cluster struct {
	server, agent *benchkit.Process
	kubeconfig    string
	config        *rest.Config
	client        kubernetes.Interface
}

// startCluster starts the server and the agent under dir and waits until
// nodes simulated nodes are Ready.
func startCluster(ctx context.Context, bin, dir string, nodes int) (*cluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	server, err := benchkit.StartProcess("tug server", bin, []string{"server", "--data-dir", dataDir,
		"--https-port", strconv.Itoa(ports[0]), "--bind-address", "127.0.0.1", "--disable-agent", "--disable-scheduler",
		// The default 10.42.0.0/16 holds 256 node /24s; simulated nodes
		// need thousands (and send no traffic).
		"--cluster-cidr", "100.64.0.0/10"},
		filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	c := &cluster{server: server, kubeconfig: filepath.Join(dataDir, "kubeconfig.yaml")}
	if err := benchkit.WaitBody(ctx, server, fmt.Sprintf("https://127.0.0.1:%d/readyz", ports[0]), "ok", time.Minute); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	if c.config, err = clientcmd.BuildConfigFromFlags("", c.kubeconfig); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	c.config.QPS, c.config.Burst = 10000, 20000
	c.config.ContentType = "application/vnd.kubernetes.protobuf"
	c.client = kubernetes.NewForConfigOrDie(c.config)
	// scheduler_perf's default node: 4 cpus, 32Gi, 110 pods.
	c.agent, err = benchkit.StartProcess("tug agent", bin, []string{"agent", "--simulated", "--nodes", strconv.Itoa(nodes),
		"--kubeconfig", c.kubeconfig, "--node-cpu", "4", "--node-memory", "32Gi", "--node-pods", "110"},
		filepath.Join(dir, "agent.log"))
	if err != nil {
		return nil, errors.Join(err, c.stop())
	}
	if err := c.waitNodesReady(ctx, nodes); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// waitNodesReady polls until n nodes report Ready.
func (c *cluster) waitNodesReady(ctx context.Context, n int) error {
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := errors.Join(c.agent.Exited(), c.server.Exited()); err != nil {
			return false, err
		}
		list, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil //nolint:nilerr // the server may be busy; poll again
		}
		ready := 0
		for i := range list.Items {
			for _, cond := range list.Items[i].Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d Ready nodes: %w", n, err)
	}
	return nil
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
