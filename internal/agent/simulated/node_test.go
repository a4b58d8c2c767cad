package simulated

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBuildNode(t *testing.T) {
	cfg := testConfig()
	cfg.Zones = 3
	cfg.Labels = map[string]string{"team": "blue", corev1.LabelInstanceTypeStable: "big"}
	cfg.Taints = []corev1.Taint{{Key: "dedicated", Value: "sim", Effect: corev1.TaintEffectNoSchedule}}
	now := metav1.NewTime(t0)
	want := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: "sim-0004",
			Labels: map[string]string{
				"kubernetes.io/hostname":           "sim-0004",
				"kubernetes.io/os":                 "linux",
				"kubernetes.io/arch":               "amd64",
				"topology.kubernetes.io/zone":      "zone-b",
				"topology.kubernetes.io/region":    "region-1",
				"node.kubernetes.io/instance-type": "big",
				"team":                             "blue",
			},
			Annotations: map[string]string{AnnotationSimulated: "true"},
		},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "dedicated", Value: "sim", Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule},
		}},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110"),
			},
			Phase: corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status (simulated)", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue, Reason: reasonNoPodCIDR, Message: messageNoPodCIDR, LastHeartbeatTime: now, LastTransitionTime: now},
			},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "198.18.0.5"},
				{Type: corev1.NodeHostName, Address: "sim-0004"},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID: nodeID("sim-0004"), SystemUUID: nodeID("sim-0004"), BootID: nodeID("sim-0004"),
				KernelVersion: "simulated", OSImage: "tug simulated node", ContainerRuntimeVersion: "simulated://0",
				KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: "amd64",
			},
		},
	}
	if diff := cmp.Diff(want, buildNode(&cfg, 4, t0)); diff != "" {
		t.Errorf("buildNode (-want +got):\n%s", diff)
	}
}

func TestNamesAndAddresses(t *testing.T) {
	got := []string{
		NodeName("sim-", 0), NodeName("sim-", 42), NodeName("n", 12345),
		NodeIP(0).String(), NodeIP(254).String(), NodeIP(255).String(), NodeIP(MaxNodes - 1).String(),
		Zone(0), Zone(2), Zone(26),
	}
	want := []string{
		"sim-0000", "sim-0042", "n12345",
		"198.18.0.1", "198.18.0.255", "198.18.1.0", "198.19.255.254",
		"zone-a", "zone-c", "zone-26",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNodeStatusKeepsTransitionTimes(t *testing.T) {
	cfg := testConfig()
	earlier := metav1.NewTime(t0.Add(-time.Hour))
	prev := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: earlier},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionTrue, LastTransitionTime: earlier},
	}
	got := map[corev1.NodeConditionType][2]time.Time{}
	for _, c := range nodeStatus(&cfg, 0, t0, prev, true).Conditions {
		got[c.Type] = [2]time.Time{c.LastHeartbeatTime.Time, c.LastTransitionTime.Time}
	}
	want := map[corev1.NodeConditionType][2]time.Time{
		corev1.NodeReady:              {t0, earlier.Time}, // still True: transition kept
		corev1.NodeDiskPressure:       {t0, t0},           // True → False: a transition now
		corev1.NodeMemoryPressure:     {t0, t0},
		corev1.NodePIDPressure:        {t0, t0},
		corev1.NodeNetworkUnavailable: {t0, t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("heartbeat and transition times (-want +got):\n%s", diff)
	}
}

func TestSyncNodeRegistersAndRenews(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()

	// Registration: node, status and lease in one sync; the first renewal
	// comes at a random point (Rand 0.5) of the 10s interval.
	if got := h.syncNode("sim-0001"); got != 5*time.Second {
		t.Errorf("requeue after registration = %v, want 5s", got)
	}
	node := h.node("sim-0001")
	if !isReady(node) || node.Labels[corev1.LabelTopologyZone] != "zone-b" || node.Status.Addresses[0].Address != "198.18.0.2" {
		t.Errorf("registered node = %+v, want Ready in zone-b at 198.18.0.2", node)
	}
	lease, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "sim-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOwner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "sim-0001", UID: node.UID}}
	if diff := cmp.Diff(wantOwner, lease.OwnerReferences); diff != "" {
		t.Errorf("lease owner (-want +got):\n%s", diff)
	}
	if *lease.Spec.HolderIdentity != "sim-0001" || *lease.Spec.LeaseDurationSeconds != 40 || !lease.Spec.RenewTime.Time.Equal(t0) {
		t.Errorf("lease spec = %+v, want holder sim-0001, 40s, renewed at %v", lease.Spec, t0)
	}

	// A sync before the renewal is due renews nothing.
	h.clock.Step(2 * time.Second)
	if got := h.syncNode("sim-0001"); got != 3*time.Second {
		t.Errorf("requeue before renewal = %v, want 3s", got)
	}
	// Due: renewed, next in 10s less up to 4% jitter (Rand 0.5: 2%),
	// rounded up to the heartbeat slots: 9.8s becomes 10s.
	h.clock.Step(3 * time.Second)
	if got, want := h.syncNode("sim-0001"), 10*time.Second; got != want {
		t.Errorf("requeue after renewal = %v, want %v", got, want)
	}
	lease, err = h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "sim-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(5 * time.Second); !lease.Spec.RenewTime.Time.Equal(want) {
		t.Errorf("renewTime = %v, want %v", lease.Spec.RenewTime.Time, want)
	}
}

func TestSlotAfter(t *testing.T) {
	for _, tc := range []struct{ after, want time.Duration }{
		{0, 0},
		{time.Nanosecond, heartbeatSlot},
		{9800 * time.Millisecond, 10 * time.Second},
		{10 * time.Second, 10 * time.Second},
	} {
		if got := slotAfter(t0.Add(tc.after)).Sub(t0); got != tc.want {
			t.Errorf("slotAfter(t0+%v) = t0+%v, want t0+%v", tc.after, got, tc.want)
		}
	}
}

func TestSyncNodeRepairs(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	h.syncNode("sim-0000")

	// The node lifecycle controller marked the node NotReady: the next
	// sync posts Ready again at once.
	node := h.node("sim-0000")
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			node.Status.Conditions[i].Status = corev1.ConditionUnknown
		}
	}
	if _, err := h.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.clock.Step(time.Second)
	h.syncNode("sim-0000")
	if node := h.node("sim-0000"); !isReady(node) {
		t.Errorf("node conditions after repair = %+v, want Ready", node.Status.Conditions)
	}

	// Deleted while the agent runs: registered again, with its lease.
	if err := h.client.CoreV1().Nodes().Delete(ctx, "sim-0000", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, "sim-0000", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.clock.Step(10 * time.Second)
	h.syncNode("sim-0000")
	if node := h.node("sim-0000"); !isReady(node) {
		t.Errorf("re-registered node conditions = %+v, want Ready", node.Status.Conditions)
	}
	if _, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "sim-0000", metav1.GetOptions{}); err != nil {
		t.Errorf("lease of the re-registered node: %v", err)
	}
}

func TestSyncNodeIgnoresOthers(t *testing.T) {
	h := newHarness(t, testConfig())
	if got := h.syncNode("sim-0002"); got != 0 {
		t.Errorf("requeue = %v, want none", got)
	}
	nodes, err := h.client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 0 {
		t.Errorf("nodes = %d, want 0: sim-0002 is not one of the agent's two", len(nodes.Items))
	}
}

func TestSyncNodeAfterRestart(t *testing.T) {
	// The node and its lease exist from an earlier run of the agent, with
	// a label missing and an old renewal.
	old := metav1.NewMicroTime(t0.Add(-time.Hour))
	holder := "sim-0000"
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0000", UID: "node-uid", Labels: map[string]string{"kubernetes.io/hostname": "sim-0000"}},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.0.0/24", PodCIDRs: []string{"10.42.0.0/24"}},
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0000", Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &old},
	}
	h := newHarness(t, testConfig(), node, lease)
	h.syncNode("sim-0000")

	got := h.node("sim-0000")
	if !isReady(got) || got.Labels[corev1.LabelTopologyZone] != "zone-a" || got.Spec.PodCIDR != "10.42.0.0/24" || got.UID != "node-uid" {
		t.Errorf("node after restart = %+v, want the same node, Ready, labeled, pod CIDR kept", got)
	}
	renewed, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), "sim-0000", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.Spec.RenewTime.Time.Equal(t0) || len(renewed.OwnerReferences) != 1 || renewed.OwnerReferences[0].UID != "node-uid" {
		t.Errorf("lease after restart = %+v, want renewed at %v and owned by the node", renewed, t0)
	}
}

// TestSyncNodeNetworkFollowsPodCIDR is the regression test of pods left
// Pending for good when the cluster CIDR has fewer node CIDRs than the
// agent has nodes: a node without a pod CIDR must tell the scheduler
// (NetworkUnavailable, and the taint from registration on) so that no pod
// is bound to it, and say so no longer once it has one.
func TestSyncNodeNetworkFollowsPodCIDR(t *testing.T) {
	h := newHarness(t, testConfig())
	h.syncNode("sim-0000")
	node := h.node("sim-0000")
	if got := networkCondition(node); got != corev1.ConditionTrue {
		t.Errorf("NetworkUnavailable without a pod CIDR = %q, want True", got)
	}
	if !hasTaint(node, corev1.TaintNodeNetworkUnavailable) {
		t.Errorf("registered taints = %v, want %s:NoSchedule", node.Spec.Taints, corev1.TaintNodeNetworkUnavailable)
	}

	// A sync while the cluster CIDR is exhausted keeps it so.
	h.clock.Step(time.Second)
	h.syncNode("sim-0000")
	if got := networkCondition(h.node("sim-0000")); got != corev1.ConditionTrue {
		t.Errorf("NetworkUnavailable still without a pod CIDR = %q, want True", got)
	}

	// The node IPAM controller gives it one: posted at once, not at the
	// next heartbeat.
	h.setPodCIDR("sim-0000", "10.42.0.0/24")
	h.clock.Step(time.Second)
	h.syncNode("sim-0000")
	node = h.node("sim-0000")
	if got := networkCondition(node); got != corev1.ConditionFalse {
		t.Errorf("NetworkUnavailable with a pod CIDR = %q, want False", got)
	}
	if !isReady(node) {
		t.Errorf("node conditions = %+v, want Ready", node.Status.Conditions)
	}
}

func networkCondition(node *corev1.Node) corev1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			return c.Status
		}
	}
	return ""
}

func hasTaint(node *corev1.Node, key string) bool {
	for _, t := range node.Spec.Taints {
		if t.Key == key && t.Effect == corev1.TaintEffectNoSchedule {
			return true
		}
	}
	return false
}
