package simulated

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// nodeState is what the agent remembers of one of its nodes. Only the
// node loop touches it, and the loop never works on one key in two
// workers at once.
type nodeState struct {
	uid       types.UID
	lease     *coordinationv1.Lease // as last written, without managedFields
	nextRenew time.Time             // zero: renew now
	heartbeat time.Time             // last status post; zero: post now
}

// minRequeue keeps a node due right now from spinning the queue.
const minRequeue = 10 * time.Millisecond

// heartbeatSlot is the grid that nodes' next heartbeats are rounded up
// to. Thousands of nodes renewing at their own instants would wake the
// agent and the server for every lease; renewals due in the same slot go
// out together, sharing wake-ups and the server's commits. A lease is
// renewed at most one slot late, far inside its duration.
const heartbeatSlot = 250 * time.Millisecond

// syncNode registers node name if it is missing, posts its status when it
// is due or wrong, and renews its Lease when due. It returns a Requeue for
// the next of these.
func (s *Simulator) syncNode(ctx context.Context, name string) error {
	i, ok := s.index[name]
	if !ok {
		return nil
	}
	st := &s.nodes[i]
	now := s.clock.Now()
	node := s.cachedNode(name)
	switch {
	case node != nil && node.DeletionTimestamp != nil:
		return nil // re-registered once gone; its deletion event brings it back here
	case node == nil:
		var err error
		if node, err = s.registerNode(ctx, i, now); err != nil {
			return err
		}
		st.uid = node.UID
		if isReady(node) {
			st.heartbeat = now
		}
	default:
		st.uid = node.UID
	}
	want := nodeLabels(&s.cfg, i)
	if !hasLabels(node, want) {
		if err := s.patchNode(ctx, name, "", map[string]any{"metadata": map[string]any{"labels": want}}); err != nil {
			return err
		}
	}
	hasPodCIDR := node.Spec.PodCIDR != ""
	networkChanged := networkUnavailable(node) == hasPodCIDR
	if st.heartbeat.IsZero() || now.Sub(st.heartbeat) >= s.cfg.StatusReportInterval || !isReady(node) || networkChanged {
		status := nodeStatus(&s.cfg, i, now, node.Status.Conditions, hasPodCIDR)
		if err := s.patchNode(ctx, name, "status", map[string]any{"status": status}); err != nil {
			return err
		}
		st.heartbeat = now
		if networkChanged {
			klog.FromContext(ctx).V(2).Info("Node network", "node", name, "podCIDR", node.Spec.PodCIDR, "unavailable", !hasPodCIDR)
		}
	}
	if !now.Before(st.nextRenew) {
		if err := s.renewLease(ctx, name, st, now); err != nil {
			return err
		}
		interval := s.cfg.LeaseDuration / 4
		if st.nextRenew.IsZero() {
			// The first renewal after registration lands anywhere in the
			// interval, so leases registered together spread evenly.
			st.nextRenew = now.Add(time.Duration(float64(interval) * s.cfg.Rand()))
		} else {
			st.nextRenew = now.Add(interval - time.Duration(float64(interval)*0.04*s.cfg.Rand()))
		}
	}
	next := st.heartbeat.Add(s.cfg.StatusReportInterval)
	if st.nextRenew.Before(next) {
		next = st.nextRenew
	}
	return controller.Requeue{After: max(slotAfter(next).Sub(now), minRequeue)}
}

// slotAfter rounds t up to the heartbeat slot grid.
func slotAfter(t time.Time) time.Time {
	if r := t.Truncate(heartbeatSlot); !r.Equal(t) {
		return r.Add(heartbeatSlot)
	}
	return t
}

// registerNode creates node i, or fetches it when it exists already
// (the cache had not seen it yet).
func (s *Simulator) registerNode(ctx context.Context, i int, now time.Time) (*corev1.Node, error) {
	nodes := s.client.CoreV1().Nodes()
	node, err := nodes.Create(ctx, buildNode(&s.cfg, i, now), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = nodes.Get(ctx, NodeName(s.cfg.NamePrefix, i), metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("register node %s: %w", NodeName(s.cfg.NamePrefix, i), err)
	}
	klog.FromContext(ctx).V(4).Info("Registered node", "node", klog.KObj(node))
	return node, nil
}

// patchNode merge-patches node name (or its subresource) with body. A
// merge patch replaces lists whole, which is right for the conditions and
// addresses the agent owns.
func (s *Simulator) patchNode(ctx context.Context, name, subresource string, body map[string]any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	var sub []string
	if subresource != "" {
		sub = []string{subresource}
	}
	if _, err := s.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, data, metav1.PatchOptions{}, sub...); err != nil {
		return fmt.Errorf("patch node %s %s: %w", name, subresource, err)
	}
	return nil
}

// renewLease writes the node's Lease with renewTime now. It updates the
// copy it last wrote, so a renewal is one request; without one (at
// registration, or after a conflict) it creates the lease, and if that
// finds one it updates the server's copy.
func (s *Simulator) renewLease(ctx context.Context, name string, st *nodeState, now time.Time) error {
	leases := s.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	if st.lease != nil {
		lease := st.lease.DeepCopy()
		s.fillLease(lease, name, st.uid, now)
		updated, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
		if err == nil {
			st.lease = slimLease(updated)
			return nil
		}
		st.lease = nil
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return fmt.Errorf("renew lease of node %s: %w", name, err)
		}
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease}}
	s.fillLease(lease, name, st.uid, now)
	written, err := leases.Create(ctx, lease, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var current *coordinationv1.Lease
		if current, err = leases.Get(ctx, name, metav1.GetOptions{}); err == nil {
			s.fillLease(current, name, st.uid, now)
			written, err = leases.Update(ctx, current, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("renew lease of node %s: %w", name, err)
	}
	st.lease = slimLease(written)
	return nil
}

// fillLease makes lease the node's, renewed at now and owned by the Node,
// as the kubelet's is, so that deleting the node deletes its lease.
func (s *Simulator) fillLease(lease *coordinationv1.Lease, name string, uid types.UID, now time.Time) {
	seconds := int32(s.cfg.LeaseDuration / time.Second)
	renew := metav1.NewMicroTime(now)
	lease.Spec.HolderIdentity = &name
	lease.Spec.LeaseDurationSeconds = &seconds
	lease.Spec.RenewTime = &renew
	if uid != "" {
		lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: name, UID: uid}}
	}
}

// slimLease drops managedFields, which an update may leave out and which
// would otherwise be most of what 5,000 leases weigh.
func slimLease(lease *coordinationv1.Lease) *coordinationv1.Lease {
	lease.ManagedFields = nil
	return lease
}

// cachedNode is the informer's copy of node name, or nil.
func (s *Simulator) cachedNode(name string) *corev1.Node {
	obj, exists, err := s.nodeInformer.GetStore().GetByKey(name)
	if err != nil || !exists {
		return nil
	}
	node, _ := obj.(*corev1.Node)
	return node
}
