package agent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tugcluster/tug/internal/agent/simulated"
	"github.com/tugcluster/tug/internal/kubelet"
	kubeletserver "github.com/tugcluster/tug/internal/kubelet/server"
)

// Options configure `tug agent`.
type Options struct {
	// Simulated runs simulated nodes (no containers) instead of the
	// containerd node agent. Default false.
	Simulated bool
	// Server is the API server's URL; with Token, the agent fetches and
	// verifies the cluster CA and authenticates with the token.
	Server string
	// Token is the cluster's join token (<data-dir>/server/token).
	Token string
	// Kubeconfig is a kubeconfig file to use instead of Server and Token.
	Kubeconfig string

	// Nodes is how many simulated nodes to run. Default 1.
	Nodes int
	// NodeNamePrefix starts each simulated node's name, followed by its
	// number zero-padded to four digits. Default "sim-".
	NodeNamePrefix string
	// NodeCPU is each simulated node's CPU capacity. Default "32".
	NodeCPU string
	// NodeMemory is each simulated node's memory capacity. Default "256Gi".
	NodeMemory string
	// NodePods is how many pods each simulated node takes. Default 110.
	NodePods int
	// Zones is how many zones (zone-a, zone-b, …) the nodes are spread
	// over, round robin, all in region-1. Default 3.
	Zones int
	// NodeLabels are added to every simulated node.
	NodeLabels map[string]string
	// NodeTaints are set on every simulated node, each as key=value:Effect
	// or key:Effect.
	NodeTaints []string
	// PodCompletionTime is how long pods with restartPolicy Never or
	// OnFailure run before they succeed. Default 1s.
	PodCompletionTime time.Duration
	// LeaseDuration is each node's Lease duration, renewed every quarter
	// of it. Default 40s.
	LeaseDuration time.Duration

	// The containerd node agent's options (without --simulated):

	// DataDir holds the agent's state under <DataDir>/agent. Default
	// /var/lib/tug.
	DataDir string
	// ContainerRuntimeEndpoint is an existing CRI socket to use; empty
	// starts a containerd child process. Default "".
	ContainerRuntimeEndpoint string
	// NodeName names the node. Default: the host name, in lower case.
	NodeName string
	// NodeIP is the node's InternalIP. Default: the address of the
	// interface with the default route.
	NodeIP string
	// KubeletPort and KubeletBindAddress are where the kubelet API
	// listens. Defaults 10250 and 0.0.0.0.
	KubeletPort        int
	KubeletBindAddress string
	// PodLogsDir holds the containers' log files. Default /var/log/pods.
	PodLogsDir string
	// ClusterDNS is the cluster DNS address pods resolve with. Default
	// 10.43.0.10.
	ClusterDNS string
	// ClusterCIDR and ServiceCIDR are the pod and service networks: routes
	// to other nodes' pod CIDRs live in the first, and both get blackhole
	// routes. Defaults 10.42.0.0/16 and 10.43.0.0/16.
	ClusterCIDR string
	ServiceCIDR string
	// Masquerade SNATs pod traffic that leaves the cluster CIDR to the
	// node's address. Default true (the CLI's default; tests turn it off).
	Masquerade bool
	// DisableDNSForwarding makes the node's DNS server refuse names
	// outside the cluster domain instead of asking the node's resolvers.
	// Default false (tests set it: nothing may leave the machine).
	DisableDNSForwarding bool

	taints []corev1.Taint // NodeTaints, parsed by withDefaults
}

// Defaults a user sees; the CLI flags use them too.
const (
	DefaultNodes             = 1
	DefaultNodeNamePrefix    = "sim-"
	DefaultNodeCPU           = "32"
	DefaultNodeMemory        = "256Gi"
	DefaultNodePods          = 110
	DefaultZones             = 3
	DefaultPodCompletionTime = time.Second
	DefaultLeaseDuration     = 40 * time.Second
)

// ephemeralStorage is every simulated node's disk.
const ephemeralStorage = "100Gi"

// DefaultDataDir is where the agent keeps its state unless told otherwise.
const DefaultDataDir = "/var/lib/tug"

// The pod and service networks a node assumes unless told otherwise; they
// must match the server's --cluster-cidr and service CIDR.
const (
	DefaultClusterCIDR = "10.42.0.0/16"
	DefaultServiceCIDR = "10.43.0.0/16"
)

func (o Options) withDefaults() Options {
	if o.Nodes == 0 {
		o.Nodes = DefaultNodes
	}
	if o.NodeNamePrefix == "" {
		o.NodeNamePrefix = DefaultNodeNamePrefix
	}
	if o.NodeCPU == "" {
		o.NodeCPU = DefaultNodeCPU
	}
	if o.NodeMemory == "" {
		o.NodeMemory = DefaultNodeMemory
	}
	if o.NodePods == 0 {
		o.NodePods = DefaultNodePods
	}
	if o.Zones == 0 {
		o.Zones = DefaultZones
	}
	if o.PodCompletionTime == 0 {
		o.PodCompletionTime = DefaultPodCompletionTime
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.KubeletPort == 0 {
		o.KubeletPort = kubeletserver.DefaultPort
	}
	if o.ClusterDNS == "" {
		o.ClusterDNS = kubelet.DefaultClusterDNS
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = DefaultClusterCIDR
	}
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = DefaultServiceCIDR
	}
	o.taints, _ = ParseTaints(o.NodeTaints)
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	o = o.withDefaults()
	if !o.Simulated {
		return o.validateNode()
	}
	switch {
	case o.Kubeconfig != "" && (o.Server != "" || o.Token != ""):
		return errors.New("use either --kubeconfig or --server with --token, not both")
	case o.Kubeconfig == "" && (o.Server == "" || o.Token == ""):
		return errors.New("--server and --token (or --kubeconfig) are required")
	case o.Nodes < 1 || o.Nodes > simulated.MaxNodes:
		return fmt.Errorf("--nodes must be between 1 and %d", simulated.MaxNodes)
	case o.NodePods < 1:
		return errors.New("--node-pods must be positive")
	case o.Zones < 1:
		return errors.New("--zones must be positive")
	case o.PodCompletionTime < 0:
		return errors.New("--pod-completion-time must not be negative")
	case o.LeaseDuration < 4*time.Second:
		return errors.New("--lease-duration must be at least 4s")
	}
	if errs := validation.IsDNS1123Subdomain(simulated.NodeName(o.NodeNamePrefix, o.Nodes-1)); len(errs) > 0 {
		return fmt.Errorf("--node-name-prefix %q makes invalid node names: %s", o.NodeNamePrefix, strings.Join(errs, "; "))
	}
	if _, err := o.capacity(); err != nil {
		return err
	}
	for k, v := range o.NodeLabels {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return fmt.Errorf("--node-labels %s=%s: %s", k, v, strings.Join(errs, "; "))
		}
	}
	_, err := ParseTaints(o.NodeTaints)
	return err
}

// validateNode checks the options of the containerd node agent.
func (o Options) validateNode() error {
	switch {
	case o.Kubeconfig != "":
		return errors.New("the node agent joins with --server and --token (it obtains its own certificates); --kubeconfig is for --simulated")
	case o.Server == "" || o.Token == "":
		return errors.New("--server and --token are required")
	case o.KubeletPort < 1 || o.KubeletPort > 65535:
		return errors.New("--kubelet-port must be between 1 and 65535")
	}
	if o.NodeName != "" {
		if errs := validation.IsDNS1123Subdomain(o.NodeName); len(errs) > 0 {
			return fmt.Errorf("--node-name %q: %s", o.NodeName, strings.Join(errs, "; "))
		}
	}
	if o.NodeIP != "" && net.ParseIP(o.NodeIP) == nil {
		return fmt.Errorf("--node-ip %q is not an IP address", o.NodeIP)
	}
	if net.ParseIP(o.ClusterDNS) == nil {
		return fmt.Errorf("--cluster-dns %q is not an IP address", o.ClusterDNS)
	}
	for flag, cidr := range map[string]string{"--cluster-cidr": o.ClusterCIDR, "--service-cidr": o.ServiceCIDR} {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return fmt.Errorf("%s %q: %w", flag, cidr, err)
		}
	}
	for k, v := range o.NodeLabels {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return fmt.Errorf("--node-labels %s=%s: %s", k, v, strings.Join(errs, "; "))
		}
	}
	_, err := ParseTaints(o.NodeTaints)
	return err
}

// capacity is each node's capacity from the options.
func (o Options) capacity() (corev1.ResourceList, error) {
	cpu, err := resource.ParseQuantity(o.NodeCPU)
	if err != nil || cpu.Sign() <= 0 {
		return nil, fmt.Errorf("--node-cpu %q must be a positive quantity", o.NodeCPU)
	}
	memory, err := resource.ParseQuantity(o.NodeMemory)
	if err != nil || memory.Sign() <= 0 {
		return nil, fmt.Errorf("--node-memory %q must be a positive quantity", o.NodeMemory)
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              cpu,
		corev1.ResourceMemory:           memory,
		corev1.ResourcePods:             *resource.NewQuantity(int64(o.NodePods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse(ephemeralStorage),
	}, nil
}

// ParseTaints parses taints written key=value:Effect or key:Effect.
func ParseTaints(specs []string) ([]corev1.Taint, error) {
	var taints []corev1.Taint
	for _, spec := range specs {
		kv, effect, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, fmt.Errorf("taint %q: want key=value:Effect", spec)
		}
		key, value, _ := strings.Cut(kv, "=")
		t := corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", spec)
		}
		if errs := validation.IsQualifiedName(key); len(errs) > 0 {
			return nil, fmt.Errorf("taint %q: %s", spec, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
			return nil, fmt.Errorf("taint %q: %s", spec, strings.Join(errs, "; "))
		}
		taints = append(taints, t)
	}
	return taints, nil
}
