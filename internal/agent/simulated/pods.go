package simulated

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// noIPRetry is how soon a pod that found its node's addresses all taken
// looks again.
const noIPRetry = 5 * time.Second

// syncPod moves pod key one step through its life on a simulated node:
// Pending to Running, Running to Succeeded for run-to-completion pods,
// and the final delete of a pod whose deletion was requested.
func (s *Simulator) syncPod(ctx context.Context, key string) error {
	obj, exists, err := s.podInformer.GetIndexer().GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		s.ips.release(key)
		return nil
	}
	p, ok := obj.(*Pod)
	if !ok {
		return nil
	}
	if _, ours := s.index[p.NodeName]; !ours {
		return nil
	}
	switch {
	case p.DeletionTimestamp != nil:
		return s.removePod(ctx, key, p)
	case p.Phase == corev1.PodPending || p.Phase == "":
		return s.startPod(ctx, key, p)
	case p.Phase == corev1.PodRunning:
		s.adoptPod(key, p)
		if !p.Ready {
			// Marked not ready while its node was unreachable (this
			// agent was down); running again, it is ready again.
			if err := s.patchPodStatus(ctx, key, p.UID, readyAgainStatus(p, s.clock.Now())); err != nil {
				return err
			}
		}
		if p.runsToCompletion() {
			return s.completePod(ctx, key, p)
		}
	default: // Succeeded or Failed: the sandbox is gone, and its address
		s.ips.release(key)
	}
	return nil
}

// removePod is the kubelet's final delete: the containers have stopped
// (there are none), so the pod object goes at once. The UID precondition
// keeps it from deleting a pod re-created under the same name.
func (s *Simulator) removePod(ctx context.Context, key string, p *Pod) error {
	uid := p.UID
	err := s.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s: %w", key, err)
	}
	s.ips.release(key)
	s.stats.deleted.Add(1)
	return nil
}

// startPod gives p an address from its node's pod CIDR and reports it
// Running. A node without a pod CIDR yet is waited for: its update
// re-queues its pods. A hostNetwork pod runs on its node's address and
// waits for nothing.
func (s *Simulator) startPod(ctx context.Context, key string, p *Pod) error {
	hostIP := NodeIP(s.index[p.NodeName])
	ip, started := hostIP, s.clock.Now()
	if !p.HostNetwork {
		cidr, ok := s.nodePodCIDR(p.NodeName)
		if !ok {
			klog.FromContext(ctx).V(4).Info("Waiting for the node's pod CIDR", "pod", key, "node", p.NodeName)
			return nil
		}
		var err error
		ip, started, err = s.ips.assign(key, p.UID, p.NodeName, cidr, started)
		if errors.Is(err, errNoFreeIP) {
			klog.FromContext(ctx).V(4).Info("No free pod address on the node, retrying", "pod", key, "node", p.NodeName, "podCIDR", cidr, "after", noIPRetry)
			return controller.Requeue{After: noIPRetry}
		}
		if err != nil {
			return fmt.Errorf("pod %s: %w", key, err)
		}
	}
	status := runningStatus(p, ip.String(), hostIP.String(), started)
	if err := s.patchPodStatus(ctx, key, p.UID, status); err != nil {
		return err
	}
	s.stats.started.Add(1)
	if p.runsToCompletion() {
		return controller.Requeue{After: max(s.cfg.PodCompletionTime-s.clock.Since(started), minRequeue)}
	}
	return nil
}

// completePod reports a run-to-completion pod Succeeded once it has run
// for the completion time, and frees its address.
func (s *Simulator) completePod(ctx context.Context, key string, p *Pod) error {
	started, ok := s.ips.started(key, p.UID)
	if !ok {
		started = p.StartTime
	}
	now := s.clock.Now()
	if due := started.Add(s.cfg.PodCompletionTime); now.Before(due) {
		return controller.Requeue{After: max(due.Sub(now), minRequeue)}
	}
	if err := s.patchPodStatus(ctx, key, p.UID, succeededStatus(p, started, now)); err != nil {
		return err
	}
	s.ips.release(key)
	s.stats.completed.Add(1)
	return nil
}

// adoptPod records the address of a pod that was running before this
// agent started.
func (s *Simulator) adoptPod(key string, p *Pod) {
	if p.HostNetwork {
		return
	}
	ip, err := netip.ParseAddr(p.PodIP)
	if err != nil {
		return
	}
	if cidr, ok := s.nodePodCIDR(p.NodeName); ok {
		s.ips.adopt(key, p.UID, p.NodeName, cidr, ip, p.StartTime)
	}
}

// patchPodStatus writes status to pods/status. A pod that is gone, or was
// re-created under its name, needs nothing more.
func (s *Simulator) patchPodStatus(ctx context.Context, key string, uid types.UID, status corev1.PodStatus) error {
	data, err := statusPatch(uid, status)
	if err != nil {
		return err
	}
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	if s.core != nil {
		err = s.core.Patch(types.MergePatchType).Namespace(namespace).Resource("pods").Name(name).SubResource("status").
			Body(data).Do(ctx).Error()
	} else {
		_, err = s.client.CoreV1().Pods(namespace).Patch(ctx, name, types.MergePatchType, data, metav1.PatchOptions{}, "status")
	}
	switch {
	case apierrors.IsNotFound(err):
		s.ips.release(key)
		return nil
	case err != nil:
		return fmt.Errorf("update status of pod %s: %w", key, err)
	}
	return nil
}

// nodePodCIDR is the first pod CIDR of node name, if it has one.
func (s *Simulator) nodePodCIDR(name string) (netip.Prefix, bool) {
	node := s.cachedNode(name)
	if node == nil || node.Spec.PodCIDR == "" {
		return netip.Prefix{}, false
	}
	cidr, err := netip.ParsePrefix(node.Spec.PodCIDR)
	return cidr, err == nil
}
