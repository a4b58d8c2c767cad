package framework

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// maxNodeMemoEntries bounds a NodeMemo; past it the memo starts afresh.
const maxNodeMemoEntries = 1 << 18

// NodeMemo remembers, per query and node, a value a plugin computed from
// a node's pods, so that passes over every node of the cluster each cycle
// recompute only the nodes that changed: consecutive pods of one workload
// ask the same queries, and a cycle changes one node.
//
// A query's entries are indexed by the node's position in the snapshot's
// list of all nodes (SnapshotIndex), which stays put between cycles: a
// lookup is an index and two comparisons, where hashing the node and
// query on every node of every cycle cost more than the value. An entry
// holds for the node object it was computed on at the same
// LabelsGeneration (which changes only when the node's pods change in a
// way a selector sees, not when a pod starts running), so a node that
// moved position, or was replaced, is simply computed again.
//
// A pass locks the memo (Lock, then Unlock): passes come from the
// scheduling goroutine, one cycle at a time, and a pass's parallel
// workers write distinct positions.
type NodeMemo[V any] struct {
	mu      sync.Mutex
	queries map[string][]NodeMemoEntry[V]
	size    int
}

// NodeMemoEntry is one node's remembered value for one query.
type NodeMemoEntry[V any] struct {
	node       *corev1.Node
	generation int64 // the node's LabelsGeneration
	Value      V
}

// Lock starts a pass; Unlock must follow.
func (m *NodeMemo[V]) Lock() {
	m.mu.Lock()
	if m.queries == nil || m.size > maxNodeMemoEntries {
		m.queries, m.size = map[string][]NodeMemoEntry[V]{}, 0
	}
}

// Unlock ends a pass.
func (m *NodeMemo[V]) Unlock() { m.mu.Unlock() }

// Entries returns query's entries, at least nodes of them; the memo must
// be locked.
func (m *NodeMemo[V]) Entries(query string, nodes int) []NodeMemoEntry[V] {
	memo := m.queries[query]
	if len(memo) < nodes {
		m.size += nodes - len(memo)
		memo = append(memo, make([]NodeMemoEntry[V], nodes-len(memo))...)
		m.queries[query] = memo
	}
	return memo
}

// Holds reports whether e was computed on ni's pods as they are.
func (e *NodeMemoEntry[V]) Holds(ni *NodeInfo) bool {
	return e.node != nil && e.node == ni.Node && e.generation == ni.LabelsGeneration
}

// Set remembers v as computed on ni.
func (e *NodeMemoEntry[V]) Set(ni *NodeInfo, v V) {
	*e = NodeMemoEntry[V]{node: ni.Node, generation: ni.LabelsGeneration, Value: v}
}
