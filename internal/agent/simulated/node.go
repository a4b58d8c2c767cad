package simulated

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations simulated nodes carry beyond the well-known ones.
const (
	// AnnotationSimulated marks a node whose pods run nowhere.
	AnnotationSimulated = "node.tug.dev/simulated"
	// InstanceType is the node.kubernetes.io/instance-type of simulated nodes.
	InstanceType = "simulated"
	// Region is the topology.kubernetes.io/region of every simulated node.
	Region = "region-1"
	// RuntimeVersion is the container runtime simulated nodes report.
	RuntimeVersion = "simulated://0"
	// KubeletPort is the kubelet port nodes advertise; nothing listens.
	KubeletPort = 10250
)

// nodeAddressBase is the start of 198.18.0.0/15, the range RFC 2544 sets
// aside for benchmarks: addresses nodes report and nothing ever contacts
// (the API server refuses to proxy to a node of the simulated runtime).
var nodeAddressBase = netip.MustParseAddr("198.18.0.0")

// NodeName is the name of node i.
func NodeName(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// NodeIP is the InternalIP of node i: 198.18.0.1 for node 0, and so on.
func NodeIP(i int) netip.Addr {
	b := nodeAddressBase.As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(i) + 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// Zone is the name of zone z: zone-a to zone-z, then zone-26 and on.
func Zone(z int) string {
	if z < 26 {
		return "zone-" + string(rune('a'+z))
	}
	return fmt.Sprintf("zone-%d", z)
}

// Reasons of the NetworkUnavailable condition.
const (
	reasonNoPodCIDR        = "NoPodCIDR"
	reasonPodCIDRAssigned  = "PodCIDRAssigned"
	messageNoPodCIDR       = "the node has no pod CIDR, so its pods get no addresses"
	messagePodCIDRAssigned = "the node has a pod CIDR"
)

// buildNode is node i as it registers: labels, taints and a Ready status
// as of now. It has no pod CIDR yet, so it registers with the network
// unavailable, and tainted so, like a kubelet's node before its network
// plugin is ready: the scheduler keeps pods off it until the node IPAM
// controller gives it a CIDR, then the node lifecycle controller lifts
// the taint. Without that, a cluster CIDR with fewer node CIDRs than
// nodes leaves the pods bound to the nodes without one Pending for good.
func buildNode(cfg *Config, i int, now time.Time) *corev1.Node {
	name := NodeName(cfg.NamePrefix, i)
	taints := append([]corev1.Taint(nil), cfg.Taints...)
	taints = append(taints, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule})
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      nodeLabels(cfg, i),
			Annotations: map[string]string{AnnotationSimulated: "true"},
		},
		Spec:   corev1.NodeSpec{Taints: taints},
		Status: nodeStatus(cfg, i, now, nil, false),
	}
	return node
}

// nodeLabels are the labels node i carries: the well-known ones, then the
// configured ones.
func nodeLabels(cfg *Config, i int) map[string]string {
	labels := map[string]string{
		corev1.LabelHostname:           NodeName(cfg.NamePrefix, i),
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		corev1.LabelTopologyZone:       Zone(i % max(cfg.Zones, 1)),
		corev1.LabelTopologyRegion:     Region,
		corev1.LabelInstanceTypeStable: InstanceType,
	}
	maps.Copy(labels, cfg.Labels)
	return labels
}

// nodeStatus is node i's status as of now; hasPodCIDR says whether the
// node has a pod CIDR, without which its network is unavailable.
// Conditions keep their transition times from prev, the node's current
// conditions, when their status does not change.
func nodeStatus(cfg *Config, i int, now time.Time, prev []corev1.NodeCondition, hasPodCIDR bool) corev1.NodeStatus {
	name := NodeName(cfg.NamePrefix, i)
	id := nodeID(name)
	network := condition(prev, now, corev1.NodeNetworkUnavailable, corev1.ConditionTrue, reasonNoPodCIDR, messageNoPodCIDR)
	if hasPodCIDR {
		network = condition(prev, now, corev1.NodeNetworkUnavailable, corev1.ConditionFalse, reasonPodCIDRAssigned, messagePodCIDRAssigned)
	}
	return corev1.NodeStatus{
		Capacity:    cfg.Capacity.DeepCopy(),
		Allocatable: cfg.Capacity.DeepCopy(),
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			condition(prev, now, corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			condition(prev, now, corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			condition(prev, now, corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			condition(prev, now, corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status (simulated)"),
			network,
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: NodeIP(i).String()},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: KubeletPort}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               id,
			SystemUUID:              id,
			BootID:                  id,
			KernelVersion:           "simulated",
			OSImage:                 "tug simulated node",
			ContainerRuntimeVersion: RuntimeVersion,
			KubeletVersion:          cfg.KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

func condition(prev []corev1.NodeCondition, now time.Time, typ corev1.NodeConditionType, status corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
	transition := metav1.NewTime(now)
	for _, c := range prev {
		if c.Type == typ && c.Status == status && !c.LastTransitionTime.IsZero() {
			transition = c.LastTransitionTime
		}
	}
	return corev1.NodeCondition{
		Type: typ, Status: status, Reason: reason, Message: message,
		LastHeartbeatTime: metav1.NewTime(now), LastTransitionTime: transition,
	}
}

// nodeID is a stable machine ID for a node name: the same node keeps it
// across agent restarts.
func nodeID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// isReady reports whether node's Ready condition is True.
func isReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// networkUnavailable reports whether node's NetworkUnavailable condition
// is True or missing.
func networkUnavailable(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			return c.Status != corev1.ConditionFalse
		}
	}
	return true
}

// hasLabels reports whether node carries every label in want.
func hasLabels(node *corev1.Node, want map[string]string) bool {
	for k, v := range want {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
