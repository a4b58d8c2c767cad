package replicaset

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// deletionCostAnnotation lets users say which pods to remove first when
// scaling down: lower cost goes first.
const deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// podsToDelete picks n of candidates to delete when scaling down, the
// least valuable first: unassigned before assigned, Pending before Unknown
// before Running, not ready before ready, lower deletion cost first, pods
// sharing a node with more related pods first (spreading what is left),
// more recently ready first, more restarts first, newer first. related are
// the active pods of this controller and its siblings (same owner), used
// only for the node counts.
func podsToDelete(candidates, related []*corev1.Pod, n int) []*corev1.Pod {
	n = min(n, len(candidates))
	perNode := map[string]int{}
	for _, pod := range related {
		if pod.Spec.NodeName != "" {
			perNode[pod.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(candidates))
	for i, pod := range candidates {
		ranked[i] = newRankedPod(pod, perNode[pod.Spec.NodeName])
	}
	ranked = firstRanked(ranked, n)
	out := make([]*corev1.Pod, n)
	for i := range n {
		out[i] = ranked[i].pod
	}
	return out
}

// firstRanked returns the n pods of ranked that go first, in order.
// compareForDeletion is a total order (names break ties), so this is
// sorting all and taking n; a rolling update scales a set of tens of
// thousands down a few hundred at a time, and sorting every pod for each
// step cost more than the rest of its sync. A heap of the n first seen
// so far costs one comparison for most pods instead.
func firstRanked(ranked []rankedPod, n int) []rankedPod {
	if n <= 0 {
		return nil
	}
	if 4*n >= len(ranked) {
		slices.SortFunc(ranked, compareForDeletion)
		return ranked[:n]
	}
	// keep is a max-heap (by deletion order) of the n first so far: its
	// root is the one that would go last of them.
	keep := ranked[:n:n]
	after := func(i, j int) bool { return compareForDeletion(keep[i], keep[j]) > 0 }
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(keep, i, after)
	}
	for _, r := range ranked[n:] {
		if compareForDeletion(r, keep[0]) < 0 {
			keep[0] = r
			siftDown(keep, 0, after)
		}
	}
	slices.SortFunc(keep, compareForDeletion)
	return keep
}

// siftDown restores the heap property of h below i, where above(a, b)
// says a belongs above b.
func siftDown(h []rankedPod, i int, above func(a, b int) bool) {
	for {
		top := i
		if l := 2*i + 1; l < len(h) && above(l, top) {
			top = l
		}
		if r := 2*i + 2; r < len(h) && above(r, top) {
			top = r
		}
		if top == i {
			return
		}
		h[i], h[top] = h[top], h[i]
		i = top
	}
}

// rankedPod holds what the comparison reads, computed once per pod.
type rankedPod struct {
	pod       *corev1.Pod
	assigned  bool
	phase     int // Pending 0, Unknown 1, Running 2
	ready     bool
	readyAt   time.Time
	cost      int64
	colocated int
	restarts  int32
}

func newRankedPod(pod *corev1.Pod, colocated int) rankedPod {
	r := rankedPod{pod: pod, assigned: pod.Spec.NodeName != "", colocated: colocated}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		r.phase = 0
	case corev1.PodUnknown:
		r.phase = 1
	default:
		r.phase = 2
	}
	if c := readyCondition(pod); c != nil && c.Status == corev1.ConditionTrue {
		r.ready, r.readyAt = true, c.LastTransitionTime.Time
	}
	if v, ok := pod.Annotations[deletionCostAnnotation]; ok {
		if cost, err := strconv.ParseInt(v, 10, 32); err == nil {
			r.cost = cost
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		r.restarts = max(r.restarts, s.RestartCount)
	}
	return r
}

// compareForDeletion orders a before b (negative) when a should be
// deleted first.
func compareForDeletion(a, b rankedPod) int {
	switch {
	case a.assigned != b.assigned:
		return boolFirst(!a.assigned)
	case a.phase != b.phase:
		return a.phase - b.phase
	case a.ready != b.ready:
		return boolFirst(!a.ready)
	case a.cost != b.cost:
		return cmp.Compare(a.cost, b.cost)
	case a.colocated != b.colocated:
		return b.colocated - a.colocated
	case a.ready && !a.readyAt.Equal(b.readyAt):
		return b.readyAt.Compare(a.readyAt) // later ready first
	case a.restarts != b.restarts:
		return int(b.restarts - a.restarts)
	case !a.pod.CreationTimestamp.Equal(&b.pod.CreationTimestamp):
		return b.pod.CreationTimestamp.Compare(a.pod.CreationTimestamp.Time)
	}
	return strings.Compare(a.pod.Name, b.pod.Name) // deterministic
}

// boolFirst returns -1 when the first operand's property holds (it goes
// first), else 1.
func boolFirst(first bool) int {
	if first {
		return -1
	}
	return 1
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
