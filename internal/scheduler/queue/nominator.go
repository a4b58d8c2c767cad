package queue

import (
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Nominator remembers pods that preemption nominated to run on a node
// (status.nominatedNodeName) and that are not bound yet, so that filters
// count them as if they were already there. It is safe for concurrent use.
type Nominator struct {
	mu     sync.RWMutex
	byNode map[string][]*framework.PodInfo
	nodeOf map[types.UID]string
	// count is len(nodeOf), readable without the lock: filters ask for
	// every node they check, and there is rarely any nomination, so the
	// common answer needs no read lock (whose shared counter the
	// filtering goroutines would fight over).
	count atomic.Int64
}

// NewNominator returns an empty Nominator.
func NewNominator() *Nominator {
	return &Nominator{byNode: map[string][]*framework.PodInfo{}, nodeOf: map[types.UID]string{}}
}

// AddNominatedPod records pi as nominated to nodeName, or to its
// status.nominatedNodeName when nodeName is empty. Bound pods and pods
// without a nomination are not recorded.
func (n *Nominator) AddNominatedPod(pi *framework.PodInfo, nodeName string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.add(pi, nodeName)
}

func (n *Nominator) add(pi *framework.PodInfo, nodeName string) {
	n.remove(pi.Pod.UID)
	if nodeName == "" {
		nodeName = pi.Pod.Status.NominatedNodeName
	}
	if nodeName == "" || pi.Pod.Spec.NodeName != "" {
		return
	}
	n.nodeOf[pi.Pod.UID] = nodeName
	n.byNode[nodeName] = append(n.byNode[nodeName], pi)
	n.count.Store(int64(len(n.nodeOf)))
}

// DeleteNominatedPodIfExists forgets pod's nomination.
func (n *Nominator) DeleteNominatedPodIfExists(pod *corev1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.remove(pod.UID)
}

func (n *Nominator) remove(uid types.UID) {
	node, ok := n.nodeOf[uid]
	if !ok {
		return
	}
	delete(n.nodeOf, uid)
	n.count.Store(int64(len(n.nodeOf)))
	pods := n.byNode[node]
	out := make([]*framework.PodInfo, 0, len(pods))
	for _, p := range pods {
		if p.Pod.UID != uid {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		delete(n.byNode, node)
		return
	}
	n.byNode[node] = out
}

// UpdateNominatedPod follows an update of a pending pod. A nomination the
// scheduler made in memory survives an update that does not carry it yet
// (the status write races with the informer).
func (n *Nominator) UpdateNominatedPod(oldPod *corev1.Pod, newInfo *framework.PodInfo) {
	n.mu.Lock()
	defer n.mu.Unlock()
	nodeName := newInfo.Pod.Status.NominatedNodeName
	if nodeName == "" && oldPod != nil && oldPod.Status.NominatedNodeName == "" {
		nodeName = n.nodeOf[oldPod.UID]
	}
	n.add(newInfo, nodeName)
}

// HasNominatedPods reports whether any pod is nominated, without the lock.
func (n *Nominator) HasNominatedPods() bool { return n.count.Load() > 0 }

// NominatedPodsForNode returns the pods nominated to nodeName; the slice is
// the caller's, the pods are shared.
func (n *Nominator) NominatedPodsForNode(nodeName string) []*framework.PodInfo {
	if n.count.Load() == 0 {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	pods := n.byNode[nodeName]
	if len(pods) == 0 {
		return nil
	}
	return append([]*framework.PodInfo(nil), pods...)
}

// NominatedNodeName returns the node pod is nominated to, or "".
func (n *Nominator) NominatedNodeName(pod *corev1.Pod) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.nodeOf[pod.UID]
}
