// Package agent is the composition root of `tug agent`: it connects to
// the API server (with the join token, or a kubeconfig) and runs the node
// agent: the containerd one (a kubelet over CRI), or simulated nodes
// (--simulated).
package agent

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/internal/agent/simulated"
	"github.com/tugcluster/tug/internal/join"
	"github.com/tugcluster/tug/internal/version"
)

// Client rate limits: thousands of nodes renew leases and start pods
// through one client, so client-go's defaults (5 QPS) would be the
// bottleneck rather than the server.
const (
	clientQPS   = 2000
	clientBurst = 4000
)

// Run runs the agent until ctx ends.
func Run(ctx context.Context, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	if !opts.Simulated {
		return runNode(ctx, opts)
	}
	cfg, err := clientConfig(ctx, opts)
	if err != nil {
		return err
	}
	return runSimulated(ctx, opts, cfg)
}

// runSimulated runs the simulated nodes of opts, with defaults filled,
// through cfg.
func runSimulated(ctx context.Context, opts Options, cfg *rest.Config) error {
	capacity, err := opts.capacity()
	if err != nil {
		return err
	}
	taints, err := ParseTaints(opts.NodeTaints)
	if err != nil {
		return err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "tug-agent-simulated"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sim, err := simulated.New(client, simulated.Config{
		Nodes:             opts.Nodes,
		NamePrefix:        opts.NodeNamePrefix,
		Capacity:          capacity,
		Zones:             opts.Zones,
		Labels:            opts.NodeLabels,
		Taints:            taints,
		PodCompletionTime: opts.PodCompletionTime,
		LeaseDuration:     opts.LeaseDuration,
		KubeletVersion:    version.Get().KubernetesVersion,
	})
	if err != nil {
		return err
	}
	return sim.Run(ctx)
}

// clientConfig connects with the kubeconfig, or else joins with the
// server URL and token.
func clientConfig(ctx context.Context, opts Options) (*rest.Config, error) {
	if opts.Kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", opts.Kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := join.Config(ctx, opts.Server, opts.Token)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", opts.Server, err)
	}
	return cfg, nil
}
