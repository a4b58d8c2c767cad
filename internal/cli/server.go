package cli

import (
	"github.com/spf13/cobra"

	"github.com/tugcluster/tug/internal/controllers/nodeipam"
	"github.com/tugcluster/tug/internal/server"
)

// newServerCommand builds `tug server`.
func newServerCommand() *cobra.Command {
	opts := server.Options{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the API server, storage, scheduler, controllers and a node agent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Validate(); err != nil {
				return err
			}
			return server.Run(cmd.Context(), opts, nil)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.DataDir, "data-dir", server.DefaultDataDir, "directory for the database, certificates, join token and admin kubeconfig")
	flags.StringVar(&opts.BindAddress, "bind-address", "0.0.0.0", "IP address the API server listens on")
	flags.IntVar(&opts.HTTPSPort, "https-port", server.DefaultHTTPSPort, "port of the API server (HTTPS)")
	flags.BoolVar(&opts.DisableAgent, "disable-agent", false, "run no node agent in this process (a control-plane-only server)")
	flags.BoolVar(&opts.DisableScheduler, "disable-scheduler", false, "run no scheduler in this process")
	flags.DurationVar(&opts.NodeMonitorGracePeriod, "node-monitor-grace-period", server.DefaultNodeMonitorGracePeriod,
		"how long a node's lease may go unrenewed before the node is marked unreachable")
	addNodeFlags(flags, &opts.Agent)
	flags.StringSliceVar(&opts.Agent.NodeTaints, "node-taints", nil, "taints set on this server's node (k=v:Effect,…)")
	flags.StringToStringVar(&opts.Agent.NodeLabels, "node-labels", nil, "labels added to this server's node (k=v,…)")
	flags.StringVar(&opts.ClusterCIDR, "cluster-cidr", nodeipam.DefaultClusterCIDR, "pod network; each node gets a /24 of it (a /64 of an IPv6 one)")
	return cmd
}
