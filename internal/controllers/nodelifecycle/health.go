package nodelifecycle

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// Condition reasons and messages upstream's controller writes, which
// users and tools match on.
const (
	reasonUnknown       = "NodeStatusUnknown"
	messageUnknown      = "Kubelet stopped posting node status."
	reasonNeverUpdated  = "NodeStatusNeverUpdated"
	messageNeverUpdated = "Kubelet never posted node status."
)

// kubeletConditions are the conditions the kubelet owns, and that become
// Unknown when it goes silent.
func kubeletConditions() []corev1.NodeConditionType {
	return []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure}
}

// nodeHealth is what the controller remembers of a node between syncs.
type nodeHealth struct {
	// heartbeat is the newest Lease renewTime or Ready lastHeartbeatTime
	// seen, in the node's clock.
	heartbeat time.Time
	// probe is when, in the controller's clock, heartbeat last advanced
	// (or the node was first seen). Staleness is measured from here, so a
	// node whose clock is off is neither killed nor kept alive by it.
	probe time.Time
	// ready is the Ready status the previous sync left the node with.
	ready corev1.ConditionStatus
	// podsPending is set when Ready left True and cleared once the node's
	// pods have all been marked not ready.
	podsPending bool
}

// syncNode brings one node's conditions and taints in line with its
// heartbeats, and asks to be called again when the node would go stale.
func (c *Controller) syncNode(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.health, name)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	now := c.clock.Now()
	heartbeat, err := c.heartbeat(node)
	if err != nil {
		return err
	}
	deadline := c.observe(node, heartbeat, now).Add(c.grace)
	stale := !now.Before(deadline)
	if stale {
		if node, err = c.markUnknown(ctx, node, now); err != nil {
			return err
		}
	}
	if node, err = c.updateTaints(ctx, node, now); err != nil {
		return err
	}
	if err := c.readyChanged(ctx, node, now); err != nil {
		return err
	}
	if stale {
		return nil // a new heartbeat is an event, nothing to wait for
	}
	return controller.Requeue{After: deadline.Sub(now)}
}

// heartbeat returns the newer of the node's Lease renewTime and its Ready
// condition's lastHeartbeatTime; zero when it has neither.
func (c *Controller) heartbeat(node *corev1.Node) (time.Time, error) {
	var newest time.Time
	if ready := condition(node, corev1.NodeReady); ready != nil {
		newest = ready.LastHeartbeatTime.Time
	}
	lease, err := c.leases.Leases(corev1.NamespaceNodeLease).Get(node.Name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return time.Time{}, err
	case lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(newest):
		newest = lease.Spec.RenewTime.Time
	}
	return newest, nil
}

// observe records heartbeat and returns the probe time staleness counts
// from. A node seen for the first time gets a full grace period from now,
// whether or not it ever had a heartbeat (upstream's startup grace).
func (c *Controller) observe(node *corev1.Node, heartbeat, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.health[node.Name]
	if h == nil {
		h = &nodeHealth{heartbeat: heartbeat, probe: now, ready: readyStatus(node)}
		c.health[node.Name] = h
	} else if heartbeat.After(h.heartbeat) {
		h.heartbeat, h.probe = heartbeat, now
	}
	return h.probe
}

// markUnknown sets the kubelet's conditions to Unknown, as nobody is there
// to report them; lastHeartbeatTime keeps when the kubelet last spoke.
func (c *Controller) markUnknown(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	updated := node.DeepCopy()
	changed := false
	for _, t := range kubeletConditions() {
		cond := condition(updated, t)
		switch {
		case cond == nil:
			updated.Status.Conditions = append(updated.Status.Conditions, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNeverUpdated,
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: metav1.NewTime(now),
			})
		case cond.Status != corev1.ConditionUnknown:
			cond.Status, cond.Reason, cond.Message = corev1.ConditionUnknown, reasonUnknown, messageUnknown
			cond.LastTransitionTime = metav1.NewTime(now)
		default:
			continue
		}
		changed = true
	}
	if !changed {
		return node, nil
	}
	klog.FromContext(ctx).V(2).Info("Node stopped posting status, marking it Unknown", "node", klog.KObj(node))
	updated, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("mark node %s unknown: %w", node.Name, err)
	}
	return updated, nil
}

// updateTaints writes the condition taints node calls for.
func (c *Controller) updateTaints(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	want, owned := conditionTaints(node)
	taints, changed := reconcileTaints(node.Spec.Taints, want, owned, metav1.NewTime(now))
	if !changed {
		return node, nil
	}
	updated := node.DeepCopy()
	updated.Spec.Taints = taints
	klog.FromContext(ctx).V(4).Info("Updating node taints", "node", klog.KObj(node), "taints", taints)
	updated, err := c.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update taints of node %s: %w", node.Name, err)
	}
	return updated, nil
}

// readyChanged notices Ready leaving True and then marks the node's pods
// not ready (upstream's MarkPodsNotReady), retrying until that succeeds:
// whoever serves those pods can no longer vouch for them.
func (c *Controller) readyChanged(ctx context.Context, node *corev1.Node, now time.Time) error {
	status := readyStatus(node)
	c.mu.Lock()
	h := c.health[node.Name]
	if h == nil { // a concurrent delete; the next sync starts afresh
		c.mu.Unlock()
		return nil
	}
	left := h.ready == corev1.ConditionTrue && status != corev1.ConditionTrue
	if left {
		h.podsPending = true
	}
	if status == corev1.ConditionTrue {
		h.podsPending = false
	}
	h.ready = status
	pending := h.podsPending
	c.mu.Unlock()
	if left {
		c.recorder.Eventf(node, nil, corev1.EventTypeNormal, "NodeNotReady", "NodeNotReady",
			"Node %s status is now: NodeNotReady", node.Name)
	}
	if !pending {
		return nil
	}
	if err := c.markPodsNotReady(ctx, node.Name, now); err != nil {
		return err
	}
	c.mu.Lock()
	if h := c.health[node.Name]; h != nil && h.ready == status {
		h.podsPending = false
	}
	c.mu.Unlock()
	return nil
}

func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	if ready := condition(node, corev1.NodeReady); ready != nil {
		return ready.Status
	}
	return ""
}
