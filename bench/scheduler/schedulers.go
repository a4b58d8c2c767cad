package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// candidate is a scheduler under test: start begins scheduling the
// cluster's default-scheduler pods and returns a stop function.
type candidate interface {
	// serverArgs are added to tug server's flags.
	serverArgs() []string
	// hold keeps the server's own scheduler, if it runs one, from
	// scheduling the backlog while it is created.
	hold(ctx context.Context, c *benchkit.Cluster) error
	// start starts the scheduler and returns how to stop it and the
	// process whose CPU time is its own (the API server's, for tug's
	// scheduler as shipped).
	start(ctx context.Context, c *benchkit.Cluster, dir string) (stop func() error, pid int, err error)
	describe() string
}

// separateProcess is the hold and server flags of a scheduler that runs
// in a process of its own: tug server's scheduler is off.
type separateProcess struct{}

func (separateProcess) serverArgs() []string { return []string{"--disable-scheduler"} }

func (separateProcess) hold(context.Context, *benchkit.Cluster) error { return nil }

// kubeScheduler runs upstream kube-scheduler as a child process with a
// client as unthrottled as tug's (its default 50 QPS would measure the
// rate limiter, not the scheduler) and no leader election.
type kubeScheduler struct {
	separateProcess
	bin string
}

func (k kubeScheduler) describe() string { return "kube-scheduler (" + k.bin + ")" }

func (k kubeScheduler) start(_ context.Context, c *benchkit.Cluster, dir string) (func() error, int, error) {
	config := filepath.Join(dir, "kube-scheduler.yaml")
	doc := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %s
  contentType: application/vnd.kubernetes.protobuf
  qps: 10000
  burst: 20000
leaderElection:
  leaderElect: false
`, c.Kubeconfig)
	if err := os.WriteFile(config, []byte(doc), 0o600); err != nil {
		return nil, 0, err
	}
	p, err := benchkit.StartProcess("kube-scheduler", k.bin, []string{"--config", config, "--secure-port=0"},
		filepath.Join(dir, "kube-scheduler.log"))
	if err != nil {
		return nil, 0, err
	}
	return p.Stop, p.PID(), nil
}
