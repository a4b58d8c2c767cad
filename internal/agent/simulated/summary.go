package simulated

import corev1 "k8s.io/api/core/v1"

// maxListedNodes bounds how many nodes a summary names.
const maxListedNodes = 5

// summary counts the agent's nodes and cached pods by state, so that a
// stall shows in the log as what the pods wait for.
type summary struct {
	nodesWithoutPodCIDR int
	noPodCIDRNodes      []string // the first few of them, by number
	pods                int
	pending             int // not started yet (nor being deleted)
	pendingNoPodCIDR    int // of pending: their node has no pod CIDR
	running             int
	finished            int // Succeeded or Failed
	deleting            int
}

// summarize counts the cached nodes and pods. It walks every cached pod,
// which at 150,000 pods takes milliseconds: fine once a minute.
func (s *Simulator) summarize() summary {
	var sum summary
	noCIDR := map[string]bool{}
	for _, name := range s.names {
		if node := s.cachedNode(name); node != nil && node.Spec.PodCIDR == "" {
			noCIDR[name] = true
			sum.nodesWithoutPodCIDR++
			if len(sum.noPodCIDRNodes) < maxListedNodes {
				sum.noPodCIDRNodes = append(sum.noPodCIDRNodes, name)
			}
		}
	}
	for _, obj := range s.podInformer.GetStore().List() {
		p, ok := obj.(*Pod)
		if !ok {
			continue
		}
		sum.pods++
		switch {
		case p.DeletionTimestamp != nil:
			sum.deleting++
		case p.Phase == corev1.PodPending || p.Phase == "":
			sum.pending++
			if noCIDR[p.NodeName] && !p.HostNetwork {
				sum.pendingNoPodCIDR++
			}
		case p.Phase == corev1.PodRunning:
			sum.running++
		default:
			sum.finished++
		}
	}
	return sum
}
