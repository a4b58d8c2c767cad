package interpodaffinity

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// nodeCounts remembers, per query and node, what PreFilter counted on one
// node (framework.NodeMemo): what a node contributes depends only on the
// query (the incoming pod's namespace, labels and namespace's labels for
// the existing pods' terms; its own required terms for the pods matching
// them) and on the node and its pods, whose affinity terms never change.
// An entry's value is nil when the node contributes nothing; it is never
// changed once stored: merging reads it.
type nodeCounts = framework.NodeMemo[*preFilterState]

type nodeEntry = framework.NodeMemoEntry[*preFilterState]

// entryFor returns ni's entry in memo if ni is the NodeInfo at its
// position in all, the snapshot's list of every node, else nil (the
// position is not ni's to write).
func entryFor(memo []nodeEntry, all []*framework.NodeInfo, ni *framework.NodeInfo) *nodeEntry {
	if i := ni.SnapshotIndex; i >= 0 && i < len(memo) && i < len(all) && all[i] == ni {
		return &memo[i]
	}
	return nil
}

// memoized returns ni's entry in memo if it holds, else count()'s result,
// remembered when ni's position is its own.
func memoized(memo []nodeEntry, all []*framework.NodeInfo, ni *framework.NodeInfo, count func() *preFilterState) *preFilterState {
	e := entryFor(memo, all, ni)
	if e != nil && e.Holds(ni) {
		return e.Value
	}
	counts := count()
	if e != nil {
		e.Set(ni, counts)
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
