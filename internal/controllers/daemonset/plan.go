package daemonset

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// nodeState is one node as the planner sees it.
type nodeState struct {
	name string
	// exists is false for a node that is gone but still has pods.
	exists bool
	place  placement
	// pods are the daemon's pods on or pinned to the node that are not
	// being deleted, oldest first.
	pods []*corev1.Pod
}

// view is what a plan is made from.
type view struct {
	nodes []nodeState
	// hash is the update revision's hash; pods with another are old.
	hash string
	// rolling is the RollingUpdate strategy with its resolved limits.
	rolling                  bool
	maxSurge, maxUnavailable int
	minReady                 time.Duration
	now                      time.Time
}

// actions is what one sync does.
type actions struct {
	// create lists nodes that get a new pod.
	create []string
	// remove lists pods to delete.
	remove []*corev1.Pod
}

// plan decides creations and deletions: a pod on every node that should
// run one, none on nodes that must not, failed pods replaced, duplicates
// removed, and old pods replaced within the rolling update's limits.
func plan(v view) (actions, time.Duration) {
	var out actions
	var wait time.Duration
	type rollCandidate struct {
		node     string
		old      *corev1.Pod
		new      *corev1.Pod
		oldAvail bool
	}
	var candidates []rollCandidate
	unavailable, surging := 0, 0
	for _, n := range v.nodes {
		if !n.exists || (!n.place.shouldRun && !n.place.shouldContinue) {
			out.remove = append(out.remove, n.pods...)
			continue
		}
		var old, cur []*corev1.Pod
		for _, pod := range n.pods {
			switch {
			case pod.Status.Phase == corev1.PodFailed:
				out.remove = append(out.remove, pod)
			case hashOf(pod) == v.hash:
				cur = append(cur, pod)
			default:
				old = append(old, pod)
			}
		}
		if !n.place.shouldRun {
			continue // may stay; never gets a new one
		}
		// One of each at most: the oldest stays.
		if len(cur) > 1 {
			out.remove = append(out.remove, cur[1:]...)
			cur = cur[:1]
		}
		if len(old) > 1 {
			out.remove = append(out.remove, old[1:]...)
			old = old[:1]
		}
		if len(cur) == 0 && len(old) == 0 {
			out.create = append(out.create, n.name)
			unavailable++
			continue
		}
		c := rollCandidate{node: n.name}
		if len(old) > 0 {
			c.old = old[0]
		}
		if len(cur) > 0 {
			c.new = cur[0]
		}
		// The node is available when the pod it relies on is.
		relied := c.new
		if relied == nil || c.old != nil {
			relied = c.old
		}
		ok, left := availableIn(relied, v.minReady, v.now)
		if left > 0 && (wait == 0 || left < wait) {
			wait = left
		}
		if c.old != nil && c.new != nil {
			newOK, newLeft := availableIn(c.new, v.minReady, v.now)
			if newOK || !v.rolling || v.maxSurge == 0 {
				out.remove = append(out.remove, c.old) // the new one took over
				continue
			}
			surging++ // still surging: counts against maxSurge
			if newLeft > 0 && (wait == 0 || newLeft < wait) {
				wait = newLeft
			}
		}
		if !ok {
			unavailable++
		}
		c.oldAvail = ok
		if c.old != nil && c.new == nil {
			candidates = append(candidates, c)
		}
	}
	if !v.rolling {
		return out, wait
	}
	slices.SortFunc(candidates, func(a, b rollCandidate) int {
		// Unavailable old pods first: replacing them costs nothing.
		if a.oldAvail != b.oldAvail {
			if !a.oldAvail {
				return -1
			}
			return 1
		}
		if a.node < b.node {
			return -1
		}
		if a.node > b.node {
			return 1
		}
		return 0
	})
	for _, c := range candidates {
		switch {
		case !c.oldAvail:
			out.remove = append(out.remove, c.old)
		case v.maxSurge > 0:
			if surging < v.maxSurge {
				out.create = append(out.create, c.node)
				surging++
			}
		case unavailable < max(v.maxUnavailable, 1):
			out.remove = append(out.remove, c.old)
			unavailable++
		}
	}
	return out, wait
}
