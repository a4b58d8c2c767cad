package tables

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

var nodeColumns = columns(
	nameColumn(),
	strCol("Status", "The status of the node"),
	strCol("Roles", "The roles of the node"),
	ageColumn(),
	strCol("Version", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
	wide(strCol("Internal-IP", corev1.NodeStatus{}.SwaggerDoc()["addresses"])),
	wide(strCol("External-IP", corev1.NodeStatus{}.SwaggerDoc()["addresses"])),
	wide(strCol("OS-Image", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"])),
	wide(strCol("Kernel-Version", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"])),
	wide(strCol("Container-Runtime", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"])),
)

// The labels that give a node its ROLES.
const (
	nodeRolePrefix = "node-role.kubernetes.io/"
	nodeRoleLabel  = "kubernetes.io/role"
)

func nodeCells(node *corev1.Node, now time.Time) []any {
	info := node.Status.NodeInfo
	return []any{
		node.Name,
		nodeStatus(node),
		nodeRoles(node),
		ageSince(node.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP),
		nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeStatus is "Ready" or "NotReady" by the Ready condition ("Unknown"
// without one), then ",SchedulingDisabled" for a cordoned node.
func nodeStatus(node *corev1.Node) string {
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
			break
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles lists, sorted, the roles named by node-role.kubernetes.io/<role>
// label keys and the value of a kubernetes.io/role label.
func nodeRoles(node *corev1.Node) string {
	seen := map[string]bool{}
	for k, v := range node.Labels {
		role := ""
		switch {
		case strings.HasPrefix(k, nodeRolePrefix):
			role = strings.TrimPrefix(k, nodeRolePrefix)
		case k == nodeRoleLabel:
			role = v
		}
		if role != "" {
			seen[role] = true
		}
	}
	roles := make([]string, 0, len(seen))
	for r := range seen {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return orNone(strings.Join(roles, ","))
}

// nodeAddress returns the node's first address of type t, or "<none>".
func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// orUnknown returns s, or "<unknown>" if it is empty.
func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
