package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tugcluster/tug/internal/agent"
)

// newAgentCommand builds `tug agent`.
func newAgentCommand() *cobra.Command {
	opts := agent.Options{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent: a kubelet over containerd, or simulated nodes (--simulated)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return agent.Run(cmd.Context(), opts)
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&opts.Simulated, "simulated", false, "run simulated nodes: no containers, pods are reported running")
	flags.StringVar(&opts.Server, "server", "", "URL of the API server to join")
	flags.StringVar(&opts.Token, "token", "", "the cluster's join token (<data-dir>/server/token on the server)")
	flags.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig to connect with, instead of --server and --token")
	flags.IntVar(&opts.Nodes, "nodes", agent.DefaultNodes, "how many simulated nodes to run")
	flags.StringVar(&opts.NodeNamePrefix, "node-name-prefix", agent.DefaultNodeNamePrefix, "prefix of the simulated nodes' names (followed by 0000, 0001, …)")
	flags.StringVar(&opts.NodeCPU, "node-cpu", agent.DefaultNodeCPU, "CPU capacity of each simulated node")
	flags.StringVar(&opts.NodeMemory, "node-memory", agent.DefaultNodeMemory, "memory capacity of each simulated node")
	flags.IntVar(&opts.NodePods, "node-pods", agent.DefaultNodePods, "pod capacity of each simulated node")
	flags.IntVar(&opts.Zones, "zones", agent.DefaultZones, "zones (zone-a, zone-b, …) the simulated nodes are spread over")
	flags.StringToStringVar(&opts.NodeLabels, "node-labels", nil, "labels added to every simulated node (k=v,…)")
	flags.StringSliceVar(&opts.NodeTaints, "node-taints", nil, "taints set on every simulated node (k=v:Effect,…)")
	flags.DurationVar(&opts.PodCompletionTime, "pod-completion-time", agent.DefaultPodCompletionTime,
		"how long pods with restartPolicy Never or OnFailure run before they succeed")
	flags.DurationVar(&opts.LeaseDuration, "lease-duration", agent.DefaultLeaseDuration, "node lease duration, renewed every quarter of it")
	flags.StringVar(&opts.DataDir, "data-dir", agent.DefaultDataDir, "directory of the agent's state (<data-dir>/agent)")
	flags.StringVar(&opts.ClusterCIDR, "cluster-cidr", agent.DefaultClusterCIDR, "pod network of the cluster (as the server's --cluster-cidr)")
	addNodeFlags(flags, &opts)
	return cmd
}

// addNodeFlags binds the containerd node agent's flags, which `tug agent`
// and `tug server` (for its own node) share.
func addNodeFlags(flags *pflag.FlagSet, opts *agent.Options) {
	flags.StringVar(&opts.ContainerRuntimeEndpoint, "container-runtime-endpoint", "",
		"CRI socket of an existing container runtime; empty starts containerd with tug's own config")
	flags.StringVar(&opts.NodeName, "node-name", "", "name of this node (default: the host name)")
	flags.StringVar(&opts.NodeIP, "node-ip", "", "InternalIP of this node (default: the address of the default route's interface)")
	flags.IntVar(&opts.KubeletPort, "kubelet-port", 10250, "port of the kubelet API")
	flags.StringVar(&opts.KubeletBindAddress, "kubelet-bind-address", "0.0.0.0", "address the kubelet API listens on")
	flags.StringVar(&opts.PodLogsDir, "pod-logs-dir", "/var/log/pods", "directory of the containers' log files")
	flags.StringVar(&opts.ClusterDNS, "cluster-dns", "10.43.0.10", "address of the cluster DNS that pods resolve with")
	flags.StringVar(&opts.ServiceCIDR, "service-cidr", agent.DefaultServiceCIDR, "service network, as the server allocates it; kept on the node: nothing sent to it leaves the machine")
	flags.BoolVar(&opts.Masquerade, "masquerade", true, "SNAT pod traffic that leaves the cluster CIDR to the node's address")
	flags.BoolVar(&opts.DisableDNSForwarding, "disable-dns-forwarding", false,
		"answer names outside cluster.local with REFUSED instead of asking the node's resolvers")
}
