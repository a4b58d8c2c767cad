package nodelifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A node whose kubelet goes silent is marked Unknown and tainted
// unreachable once the grace period passes, its pods are marked not
// ready, and its taints follow Ready as the kubelet comes back.
func TestNodeGoesSilentAndComesBack(t *testing.T) {
	readyPod := makePod("p1", "n1")
	readyPod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	otherPod := makePod("p2", "n2")
	otherPod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	h := newHarness(t, makeNode("n1", corev1.ConditionTrue, t0), makeLease("n1", t0),
		makeNode("n2", corev1.ConditionTrue, t0), makeLease("n2", t0), readyPod, otherPod)
	h.syncNode("n2")

	if got := h.syncNode("n1"); got != testGrace {
		t.Fatalf("fresh node: requeue after %v, want %v", got, testGrace)
	}
	h.advance(testGrace - time.Second)
	if got := h.syncNode("n1"); got != time.Second {
		t.Fatalf("1s before the deadline: requeue after %v, want 1s", got)
	}
	if s := readyStatus(h.node("n1")); s != corev1.ConditionTrue {
		t.Fatalf("1s before the deadline: Ready = %s, want True", s)
	}

	h.renew("n2")
	h.syncNode("n2") // the controller sees the renewal when it happens
	h.advance(time.Second)
	silent := h.clock.Now()
	if got := h.syncNode("n1"); got != -1 {
		t.Fatalf("stale node: requeue after %v, want none", got)
	}
	if got := h.syncNode("n2"); got != testGrace-time.Second {
		t.Fatalf("node renewed 1s ago: requeue after %v, want %v", got, testGrace-time.Second)
	}
	if node := h.node("n2"); readyStatus(node) != corev1.ConditionTrue || len(node.Spec.Taints) != 0 {
		t.Errorf("renewing node: Ready %s, taints %v; want True and none", readyStatus(node), node.Spec.Taints)
	}
	node := h.node("n1")
	created := node.CreationTimestamp
	wantConditions := []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: reasonUnknown, Message: messageUnknown,
		LastHeartbeatTime: metav1.NewTime(t0), LastTransitionTime: metav1.NewTime(silent),
	}, {
		Type: corev1.NodeMemoryPressure, Status: corev1.ConditionUnknown, Reason: reasonUnknown, Message: messageUnknown,
		LastHeartbeatTime: metav1.NewTime(t0), LastTransitionTime: metav1.NewTime(silent),
	}, {
		Type: corev1.NodeDiskPressure, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNeverUpdated,
		LastHeartbeatTime: created, LastTransitionTime: metav1.NewTime(silent),
	}, {
		Type: corev1.NodePIDPressure, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNeverUpdated,
		LastHeartbeatTime: created, LastTransitionTime: metav1.NewTime(silent),
	}}
	if diff := cmp.Diff(wantConditions, node.Status.Conditions); diff != "" {
		t.Errorf("conditions of the stale node (-want +got):\n%s", diff)
	}
	wantTaints := []corev1.Taint{
		taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule, silent),
		taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, silent),
	}
	if diff := cmp.Diff(wantTaints, node.Spec.Taints); diff != "" {
		t.Errorf("taints of the stale node (-want +got):\n%s", diff)
	}
	if got := h.pod("p1").Status.Conditions[0]; got.Status != corev1.ConditionFalse || !got.LastTransitionTime.Time.Equal(silent) {
		t.Errorf("pod on the stale node: Ready %s since %v, want False since %v", got.Status, got.LastTransitionTime, silent)
	}
	if got := h.pod("p2").Status.Conditions[0].Status; got != corev1.ConditionTrue {
		t.Errorf("pod on another node: Ready %s, want True", got)
	}
	wantEvents := []string{"Normal NodeNotReady Node n1 status is now: NodeNotReady", "Warning NodeNotReady Node is not ready"}
	if diff := cmp.Diff(wantEvents, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	h.advance(5 * time.Second)
	if got := h.syncNode("n1"); got != -1 {
		t.Fatalf("still stale: requeue after %v, want none", got)
	}
	if actions := h.client.Actions(); len(actions) != 0 {
		t.Errorf("syncing a node already marked wrote %v, want nothing", actions)
	}

	// The lease is renewed again, but until the kubelet reports Ready the
	// node keeps its Unknown status and taints.
	h.renew("n1")
	if got := h.syncNode("n1"); got != testGrace {
		t.Fatalf("renewed lease: requeue after %v, want %v", got, testGrace)
	}
	if diff := cmp.Diff(wantTaints, h.node("n1").Spec.Taints); diff != "" {
		t.Errorf("taints after the lease came back (-want +got):\n%s", diff)
	}

	// Ready=False swaps unreachable for not-ready.
	h.advance(time.Second)
	notReadyAt := h.clock.Now()
	h.postReady("n1", corev1.ConditionFalse)
	h.syncNode("n1")
	wantTaints = []corev1.Taint{
		taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule, notReadyAt),
		taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute, notReadyAt),
	}
	if diff := cmp.Diff(wantTaints, h.node("n1").Spec.Taints); diff != "" {
		t.Errorf("taints after Ready=False (-want +got):\n%s", diff)
	}

	// Ready=True removes them.
	h.advance(time.Second)
	h.postReady("n1", corev1.ConditionTrue)
	if got := h.syncNode("n1"); got != testGrace {
		t.Fatalf("ready node: requeue after %v, want %v", got, testGrace)
	}
	node = h.node("n1")
	if len(node.Spec.Taints) != 0 {
		t.Errorf("taints of the ready node: %v, want none", node.Spec.Taints)
	}
	if s := readyStatus(node); s != corev1.ConditionTrue {
		t.Errorf("Ready = %s after the kubelet posted True", s)
	}
}

// postReady is the kubelet reporting Ready=status now.
func (h *harness) postReady(name string, status corev1.ConditionStatus) {
	h.t.Helper()
	node := h.node(name)
	cond := condition(node, corev1.NodeReady)
	cond.Status, cond.Reason, cond.Message = status, "Kubelet", ""
	cond.LastHeartbeatTime = metav1.NewTime(h.clock.Now())
	cond.LastTransitionTime = metav1.NewTime(h.clock.Now())
	h.updateNode(node)
}

func TestStartupGrace(t *testing.T) {
	t.Run("a node that never reported", func(t *testing.T) {
		h := newHarness(t, makeNode("n1", "", time.Time{}))
		if got := h.syncNode("n1"); got != testGrace {
			t.Fatalf("first sight: requeue after %v, want %v", got, testGrace)
		}
		h.advance(testGrace)
		if got := h.syncNode("n1"); got != -1 {
			t.Fatalf("after the grace period: requeue after %v, want none", got)
		}
		node := h.node("n1")
		ready := condition(node, corev1.NodeReady)
		if ready == nil || ready.Status != corev1.ConditionUnknown || ready.Reason != reasonNeverUpdated ||
			!ready.LastHeartbeatTime.Equal(&node.CreationTimestamp) {
			t.Errorf("Ready = %+v, want Unknown, %s, heartbeat at creation", ready, reasonNeverUpdated)
		}
		if len(noExecuteTaints(node)) != 1 || noExecuteTaints(node)[0].Key != corev1.TaintNodeUnreachable {
			t.Errorf("taints = %v, want unreachable", node.Spec.Taints)
		}
	})
	// As upstream after a restart, the controller does not trust that the
	// time since an old heartbeat was silence it could have observed.
	t.Run("an old lease gets a grace period from first sight", func(t *testing.T) {
		old := t0.Add(-time.Hour)
		h := newHarness(t, makeNode("n1", corev1.ConditionTrue, old), makeLease("n1", old))
		if got := h.syncNode("n1"); got != testGrace {
			t.Fatalf("first sight: requeue after %v, want %v", got, testGrace)
		}
		if s := readyStatus(h.node("n1")); s != corev1.ConditionTrue {
			t.Errorf("Ready = %s at first sight, want True", s)
		}
	})
}

// Without a Lease, the Ready condition's heartbeats keep a node alive.
func TestReadyHeartbeatKeepsNodeAlive(t *testing.T) {
	h := newHarness(t, makeNode("n1", corev1.ConditionTrue, t0))
	h.syncNode("n1")
	h.advance(30 * time.Second)
	h.postReady("n1", corev1.ConditionTrue)
	if got := h.syncNode("n1"); got != testGrace {
		t.Fatalf("after a heartbeat: requeue after %v, want %v", got, testGrace)
	}
	h.advance(30 * time.Second)
	if got := h.syncNode("n1"); got != 10*time.Second {
		t.Fatalf("30s after the heartbeat: requeue after %v, want 10s", got)
	}
	if s := readyStatus(h.node("n1")); s != corev1.ConditionTrue {
		t.Errorf("Ready = %s, want True", s)
	}
}

// A deleted node is forgotten: if it comes back it starts afresh.
func TestDeletedNodeIsForgotten(t *testing.T) {
	h := newHarness(t, makeNode("n1", corev1.ConditionTrue, t0))
	h.syncNode("n1")
	if err := h.client.CoreV1().Nodes().Delete(t.Context(), "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.syncNode("n1"); got != -1 {
		t.Fatalf("deleted node: requeue after %v, want none", got)
	}
	if _, ok := h.c.health["n1"]; ok {
		t.Error("health of a deleted node is still kept")
	}
}
