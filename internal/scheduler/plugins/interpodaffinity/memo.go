package interpodaffinity

import (
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxMemoEntries bounds nodeCounts; past it the memo starts afresh.
const maxMemoEntries = 1 << 18

// nodeCounts remembers, per query and node, what PreFilter counted on one
// node: what a node contributes depends only on the query (the incoming
// pod's namespace, labels and namespace's labels for the existing pods'
// terms; its own required terms for the pods matching them) and on the
// node and its pods. Consecutive pods of one workload ask the same query
// and a cycle changes one node, so PreFilter recounts only the nodes that
// changed instead of matching every term against every pod of the cluster
// each cycle.
//
// A query's entries are indexed by the node's position in the snapshot
// (SnapshotIndex); an entry holds for the node object and LabelsGeneration
// it was counted at (which changes whenever the node's pods come, go or
// change labels or namespace; pods' affinity terms never change).
type nodeCounts struct {
	// mu is held for a whole PreFilter pass: passes come from the
	// scheduling goroutine, one cycle at a time, and a pass's parallel
	// workers write distinct positions.
	mu      sync.Mutex
	queries map[string][]nodeEntry
	size    int
}

type nodeEntry struct {
	node       *corev1.Node
	generation int64
	// counts is what the node contributes; nil when it contributes
	// nothing. It is never changed once stored: merging reads it.
	counts *preFilterState
}

// begin locks the memo and returns query's entries for a snapshot of
// nodes nodes; end must follow.
func (m *nodeCounts) begin(query string, nodes int) []nodeEntry {
	m.mu.Lock()
	if m.queries == nil || m.size > maxMemoEntries {
		m.queries, m.size = map[string][]nodeEntry{}, 0
	}
	memo := m.queries[query]
	if len(memo) < nodes {
		m.size += nodes - len(memo)
		memo = append(memo, make([]nodeEntry, nodes-len(memo))...)
		m.queries[query] = memo
	}
	return memo
}

// end unlocks the memo.
func (m *nodeCounts) end() { m.mu.Unlock() }

// entryFor returns ni's entry in memo if ni is the NodeInfo at its
// position in all, the snapshot's list of every node, else nil (the
// position is not ni's to write).
func entryFor(memo []nodeEntry, all []*framework.NodeInfo, ni *framework.NodeInfo) *nodeEntry {
	if i := ni.SnapshotIndex; i >= 0 && i < len(memo) && i < len(all) && all[i] == ni {
		return &memo[i]
	}
	return nil
}

// holds reports whether e was counted on ni as it is.
func (e *nodeEntry) holds(ni *framework.NodeInfo) bool {
	return e.node != nil && e.node == ni.Node && e.generation == ni.LabelsGeneration
}

// memoized returns ni's entry in memo if it holds, else count()'s result,
// remembered when ni's position is its own.
func memoized(memo []nodeEntry, all []*framework.NodeInfo, ni *framework.NodeInfo, count func() *preFilterState) *preFilterState {
	e := entryFor(memo, all, ni)
	if e != nil && e.holds(ni) {
		return e.counts
	}
	counts := count()
	if e != nil {
		*e = nodeEntry{node: ni.Node, generation: ni.LabelsGeneration, counts: counts}
	}
	return counts
}

// existingQuery names what the existing pods' terms match of pod: its
// namespace, labels and its namespace's labels.
func existingQuery(pod *corev1.Pod, nsLabels labels.Set) string {
	return pod.Namespace + "\x00" + labels.Set(pod.Labels).String() + "\x00" + nsLabels.String()
}

// incomingQuery names the incoming pod's required terms (namespaces
// resolved). Equal strings mean equal terms.
func incomingQuery(affinity, antiAffinity []framework.AffinityTerm) string {
	var b strings.Builder
	for _, terms := range [][]framework.AffinityTerm{affinity, antiAffinity} {
		b.WriteByte(1)
		for i := range terms {
			writeTerm(&b, &terms[i])
		}
	}
	return b.String()
}

func writeTerm(b *strings.Builder, t *framework.AffinityTerm) {
	b.WriteByte(2)
	namespaces := t.Namespaces.UnsortedList()
	slices.Sort(namespaces)
	b.WriteString(strings.Join(namespaces, ","))
	b.WriteByte(0)
	if t.NamespaceSelector == nil {
		b.WriteString("<none>")
	} else {
		b.WriteString("selector:" + t.NamespaceSelector.String())
	}
	b.WriteByte(0)
	if t.Selector != nil {
		b.WriteString(t.Selector.String())
	}
	b.WriteByte(0)
	b.WriteString(t.TopologyKey)
}
