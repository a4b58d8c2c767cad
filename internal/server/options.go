package server

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tugcluster/tug/internal/agent"
	"github.com/tugcluster/tug/internal/controllers/nodeipam"
)

// Options configure `tug server`.
type Options struct {
	// DataDir holds the database, certificates, token and kubeconfig.
	// Default /var/lib/tug.
	DataDir string
	// BindAddress is the address the API server listens on. Default 0.0.0.0.
	BindAddress string
	// HTTPSPort is the API server's port; 0 picks a free one (tests).
	// Default 6443 (set by the CLI flag).
	HTTPSPort int
	// DisableAgent runs no node agent in this process. Default false: the
	// server is also a node, with Agent's options.
	DisableAgent bool
	// Agent configures the server's own node agent; the server fills in
	// its URL, join token and data directory.
	Agent agent.Options
	// DisableScheduler runs no scheduler in this process (another
	// scheduler, or a benchmark, owns default-scheduler pods). Default false.
	DisableScheduler bool
	// NodeMonitorGracePeriod is how long a node's Lease may go unrenewed
	// before the node lifecycle controller marks it Unknown and taints it
	// unreachable. Default 40s.
	NodeMonitorGracePeriod time.Duration
	// ClusterCIDR is the pod network: the node IPAM controller gives each
	// node a /24 of it (a /64 of an IPv6 one). Default 10.42.0.0/16.
	ClusterCIDR string
}

// DefaultDataDir is where tug keeps its state unless told otherwise.
const DefaultDataDir = "/var/lib/tug"

// DefaultNodeMonitorGracePeriod is how long a silent node stays Ready.
const DefaultNodeMonitorGracePeriod = 40 * time.Second

// DefaultHTTPSPort is the API server's default port.
const DefaultHTTPSPort = 6443

func (o Options) withDefaults() Options {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.BindAddress == "" {
		o.BindAddress = "0.0.0.0"
	}
	if o.NodeMonitorGracePeriod == 0 {
		o.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = nodeipam.DefaultClusterCIDR
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.HTTPSPort < 0 || o.HTTPSPort > 65535 {
		return errors.New("--https-port must be between 0 and 65535")
	}
	if o.BindAddress != "" && net.ParseIP(o.BindAddress) == nil {
		return errors.New("--bind-address must be an IP address")
	}
	if o.NodeMonitorGracePeriod < 0 {
		return errors.New("--node-monitor-grace-period must not be negative")
	}
	if o.ClusterCIDR != "" {
		if _, err := nodeipam.ParseClusterCIDR(o.ClusterCIDR); err != nil {
			return fmt.Errorf("--cluster-cidr: %w", err)
		}
	}
	return nil
}
