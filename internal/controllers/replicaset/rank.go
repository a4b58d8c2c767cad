package replicaset

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/controller"
)

// deletionCostAnnotation lets users say which pods to remove first when
// scaling down: lower cost goes first.
const deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// podsToDelete picks n of candidates to delete when scaling down, the
// least valuable first: unassigned before assigned, Pending before Unknown
// before Running, not ready before ready, lower deletion cost first, pods
// sharing a node with more related pods first (spreading what is left),
// more recently ready first, more restarts first, newer first. perNode
// counts the active pods of this controller and its siblings (same owner)
// by node.
func podsToDelete(candidates []ownedPod, perNode map[string]int, n int) []*corev1.Pod {
	n = min(n, len(candidates))
	ranked := make([]rankedPod, len(candidates))
	for i := range candidates {
		ranked[i] = candidates[i].Facts.rank
		ranked[i].pod = candidates[i].Obj
		ranked[i].colocated = perNode[ranked[i].nodeName]
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

// rankedPod holds what the comparison reads, computed once per pod
// version (podFacts), so that ranking reads the pod objects only to break
// ties by name. Times are in Unix nanoseconds (unixNanos).
type rankedPod struct {
	pod       *corev1.Pod
	nodeName  string
	created   int64
	readyAt   int64
	cost      int64
	colocated int
	restarts  int32
	phase     int8 // Pending 0, Unknown 1, Running 2
	ready     bool
}

func newRankedPod(pod *corev1.Pod, colocated int) rankedPod {
	r := rankedPod{pod: pod, nodeName: pod.Spec.NodeName, created: unixNanos(pod.CreationTimestamp.Time), colocated: colocated}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		r.phase = 0
	case corev1.PodUnknown:
		r.phase = 1
	default:
		r.phase = 2
	}
	if c := readyCondition(pod); c != nil && c.Status == corev1.ConditionTrue {
		r.ready, r.readyAt = true, unixNanos(c.LastTransitionTime.Time)
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
	case (a.nodeName != "") != (b.nodeName != ""):
		return boolFirst(a.nodeName == "")
	case a.phase != b.phase:
		return int(a.phase) - int(b.phase)
	case a.ready != b.ready:
		return boolFirst(!a.ready)
	case a.cost != b.cost:
		return cmp.Compare(a.cost, b.cost)
	case a.colocated != b.colocated:
		return b.colocated - a.colocated
	case a.ready && a.readyAt != b.readyAt:
		return cmp.Compare(b.readyAt, a.readyAt) // later ready first
	case a.restarts != b.restarts:
		return int(b.restarts - a.restarts)
	case a.created != b.created:
		return cmp.Compare(b.created, a.created)
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

// unixNanos is t in Unix nanoseconds, the zero time (a condition without
// a transition time) earliest of all.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// podFacts is what a sync reads of one of its pods, taken when the
// informer delivers the pod version (controller.OwnedSets). It holds no
// pointers but strings', so copying it costs the collector little.
type podFacts struct {
	rank rankedPod // pod and colocated are left unset: podsToDelete fills them
	// labels is the pod's labels in labels.Set's canonical form, the same
	// string for the pods of one template (labelForms), so that a sync
	// matches its selector once per distinct label set, not once per pod.
	labels      string
	terminating bool
	finished    bool
}

// ownedPod is a pod filed under its controller, with its facts.
type ownedPod = controller.OwnedObject[*corev1.Pod, podFacts]

// factsOf takes pod's facts, sharing label strings through forms.
func factsOf(pod *corev1.Pod, forms *labelForms) podFacts {
	f := podFacts{
		rank: newRankedPod(pod, 0), labels: forms.of(pod.Labels),
		terminating: pod.DeletionTimestamp != nil, finished: finished(pod),
	}
	f.rank.pod = nil
	return f
}

// labelForms hands out one string per distinct label set, so that
// comparing two pods' label strings is most often a pointer comparison.
type labelForms struct {
	mu    sync.Mutex
	forms map[string]string
}

// maxLabelForms bounds labelForms; past it, it starts afresh (later pods
// then get new strings, equal to the old ones in content).
const maxLabelForms = 4096

func (l *labelForms) of(m map[string]string) string {
	form := labels.Set(m).String()
	l.mu.Lock()
	defer l.mu.Unlock()
	if shared, ok := l.forms[form]; ok {
		return shared
	}
	if l.forms == nil || len(l.forms) >= maxLabelForms {
		l.forms = map[string]string{}
	}
	l.forms[form] = form
	return form
}

// selectorMatcher matches a sync's pods against its selector by their
// label strings, remembering the last one: the pods of a set share theirs.
type selectorMatcher struct {
	selector labels.Selector
	last     string
	matched  bool
	known    bool
}

func (m *selectorMatcher) matches(o *ownedPod) bool {
	if !m.known || o.Facts.labels != m.last {
		m.last, m.matched, m.known = o.Facts.labels, m.selector.Matches(labelsOf(o.Obj)), true
	}
	return m.matched
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
