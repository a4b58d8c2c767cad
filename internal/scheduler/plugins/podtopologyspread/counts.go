package podtopologyspread

import (
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxCountEntries bounds matchCounts; past it the memo starts afresh.
const maxCountEntries = 1 << 16

// matchCounts remembers how many pods of a node a selector matched, so
// that pre-filter and pre-score, which count over every node of the
// cluster each cycle, recount only the nodes that changed: consecutive
// pods of one workload share their selector, and a cycle changes one
// node. An entry holds for the very NodeInfo it was counted on (the
// snapshot replaces a node's NodeInfo when it changes) at the same
// generation. Safe for concurrent use.
type matchCounts struct {
	entries sync.Map // countKey → *countEntry
	size    atomic.Int64
}

type countKey struct {
	node  string
	query string // namespace, NUL, selector
}

type countEntry struct {
	nodeInfo   *framework.NodeInfo
	generation int64
	count      int32
}

// countQuery names what count counts: pods in namespace ns matching sel.
func countQuery(ns string, sel labels.Selector) string { return ns + "\x00" + sel.String() }

// count returns the number of pods on ni in namespace ns matching sel;
// query is countQuery(ns, sel).
func (m *matchCounts) count(ni *framework.NodeInfo, sel labels.Selector, ns, query string) int32 {
	key := countKey{node: ni.Node.Name, query: query}
	if v, ok := m.entries.Load(key); ok {
		if e := v.(*countEntry); e.nodeInfo == ni && e.generation == ni.Generation {
			return e.count
		}
	}
	n := int32(countMatching(ni.Pods, sel, ns))
	if _, loaded := m.entries.Swap(key, &countEntry{nodeInfo: ni, generation: ni.Generation, count: n}); !loaded {
		if m.size.Add(1) > maxCountEntries {
			m.entries.Clear()
			m.size.Store(0)
		}
	}
	return n
}
