package podtopologyspread

import (
	"sync"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxCountEntries bounds matchCounts; past it the memo starts afresh.
const maxCountEntries = 1 << 18

// matchCounts remembers how many pods of a node a selector matched, so
// that pre-filter and pre-score, which count over every node of the
// cluster each cycle, recount only the nodes that changed: consecutive
// pods of one workload share their selector, and a cycle changes one
// node.
//
// The memo of a query is a slice indexed by the node's position in the
// snapshot's node list (SnapshotIndex), which stays put between cycles: a lookup is an
// index and two comparisons, where hashing the node and query on every
// node of every cycle cost most of the plugin's time in large clusters.
// An entry holds for the node object it was counted on at the same
// LabelsGeneration (which changes only when the node's pods change in a
// way a selector sees, not when a pod starts running), so a node that
// moved position, or was replaced, is simply recounted.
type matchCounts struct {
	// mu is held for a whole counting pass: passes come from the
	// scheduling goroutine, one cycle at a time, and a pass's parallel
	// workers write distinct positions. Score reads the memo after the
	// pass, within the same cycle.
	mu      sync.Mutex
	queries map[string][]countEntry
	size    int
}

type countEntry struct {
	node       *corev1.Node
	generation int64 // the node's LabelsGeneration
	count      int32
}

// holds reports whether e was counted on ni's pods as they are.
func (e *countEntry) holds(ni *framework.NodeInfo) bool {
	return e.node == ni.Node && e.node != nil && e.generation == ni.LabelsGeneration
}

// countQuery names what count counts: pods in namespace ns matching sel.
func countQuery(ns string, sel labels.Selector) string { return ns + "\x00" + sel.String() }

// countPass is one pass's view of the memo of some queries.
type countPass struct {
	memos map[string][]countEntry
}

// begin locks the memo for a pass over nodes counting queries; end must
// follow.
func (m *matchCounts) begin(queries []string, nodes int) *countPass {
	m.mu.Lock()
	if m.queries == nil || m.size > maxCountEntries {
		m.queries, m.size = map[string][]countEntry{}, 0
	}
	p := &countPass{memos: make(map[string][]countEntry, len(queries))}
	for _, q := range queries {
		if q == "" {
			continue
		}
		memo := m.queries[q]
		if len(memo) < nodes {
			m.size += nodes - len(memo)
			memo = append(memo, make([]countEntry, nodes-len(memo))...)
			m.queries[q] = memo
		}
		p.memos[q] = memo
	}
	return p
}

// end unlocks the memo.
func (m *matchCounts) end() { m.mu.Unlock() }

// memo returns query's entries, for countAt during the pass and Score
// after it.
func (p *countPass) memo(query string) []countEntry { return p.memos[query] }

// countAt returns the number of pods on ni, at position i of the node
// list, in namespace ns matching sel, from memo, a query's entries in a
// pass (memo(countQuery(ns, sel))), counting and remembering them if the
// entry is not ni's. Safe for concurrent use at distinct positions.
func countAt(memo []countEntry, i int, ni *framework.NodeInfo, sel labels.Selector, ns string) int32 {
	e := &memo[i]
	if e.holds(ni) {
		return e.count
	}
	n := int32(countMatching(ni.Pods, sel, ns))
	*e = countEntry{node: ni.Node, generation: ni.LabelsGeneration, count: n}
	return n
}

// lookupCount reads a memo a pass of this cycle filled: ni's count if the
// entry at its SnapshotIndex is ni's, else a fresh count, which is not
// written back (Score calls it in parallel, at positions it cannot vouch
// for).
func lookupCount(memo []countEntry, ni *framework.NodeInfo, sel labels.Selector, ns string) int32 {
	if i := ni.SnapshotIndex; i >= 0 && i < len(memo) {
		if e := &memo[i]; e.holds(ni) {
			return e.count
		}
	}
	return int32(countMatching(ni.Pods, sel, ns))
}
