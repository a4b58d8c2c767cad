package podtopologyspread

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// matchCounts remembers how many pods of a node a selector matched
// (framework.NodeMemo), so that pre-filter and pre-score, which count over
// every node of the cluster each cycle, recount only the nodes that
// changed.
type matchCounts struct {
	framework.NodeMemo[int32]
}

// countEntry is one node's remembered count for one query.
type countEntry = framework.NodeMemoEntry[int32]

// countQuery names what count counts: pods in namespace ns matching sel.
func countQuery(ns string, sel labels.Selector) string { return ns + "\x00" + sel.String() }

// countPass is one pass's view of the memo of some queries.
type countPass struct {
	memos map[string][]countEntry
}

// begin locks the memo for a pass over nodes counting queries; end must
// follow.
func (m *matchCounts) begin(queries []string, nodes int) *countPass {
	m.Lock()
	p := &countPass{memos: make(map[string][]countEntry, len(queries))}
	for _, q := range queries {
		if q != "" {
			p.memos[q] = m.Entries(q, nodes)
		}
	}
	return p
}

// end unlocks the memo.
func (m *matchCounts) end() { m.Unlock() }

// memo returns query's entries, for countAt during the pass and Score
// after it.
func (p *countPass) memo(query string) []countEntry { return p.memos[query] }

// queriesOf returns the query of each of pod's constraints cons.
func queriesOf(pod *corev1.Pod, cons []constraint) []string {
	queries := make([]string, len(cons))
	for i := range cons {
		queries[i] = countQuery(pod.Namespace, cons[i].selector)
	}
	return queries
}

// memosOf returns the entries of each of queries.
func (p *countPass) memosOf(queries []string) [][]countEntry {
	memos := make([][]countEntry, len(queries))
	for i, q := range queries {
		memos[i] = p.memo(q)
	}
	return memos
}

// countAt returns the number of pods on ni, at position i of the node
// list, in namespace ns matching sel, from memo, a query's entries in a
// pass (memo(countQuery(ns, sel))), counting and remembering them if the
// entry is not ni's. Safe for concurrent use at distinct positions.
func countAt(memo []countEntry, i int, ni *framework.NodeInfo, sel labels.Selector, ns string) int32 {
	e := &memo[i]
	if e.Holds(ni) {
		return e.Value
	}
	n := int32(countMatching(ni.Pods, sel, ns))
	e.Set(ni, n)
	return n
}

// lookupCount reads a memo a pass of this cycle filled: ni's count if the
// entry at its SnapshotIndex is ni's, else a fresh count, which is not
// written back (Score calls it in parallel, at positions it cannot vouch
// for).
func lookupCount(memo []countEntry, ni *framework.NodeInfo, sel labels.Selector, ns string) int32 {
	if i := ni.SnapshotIndex; i >= 0 && i < len(memo) {
		if e := &memo[i]; e.Holds(ni) {
			return e.Value
		}
	}
	return int32(countMatching(ni.Pods, sel, ns))
}
