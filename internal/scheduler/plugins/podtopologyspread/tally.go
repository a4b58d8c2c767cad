package podtopologyspread

import (
	"context"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxTallies bounds tallies; past it they start afresh.
const maxTallies = 64

// tallies keeps, per kind of pod, what PreScore counts over every node of
// the cluster each cycle — the matching pods on each node, and their sums
// per domain — and carries it from one cycle to the next, revisiting only
// the nodes the snapshot replaced in between (nodeChanges). The pods of a
// workload, scheduled one after another, are one kind: the same
// namespace, constraints and node filter (tallyKey). Without it a pass
// over 1,000 nodes per pod was a third of the scheduler's time in a
// Deployment's scale-up, though each cycle changes a node or two.
type tallies struct {
	mu    sync.Mutex
	byKey map[string]*tally
}

// tally is one kind's counts, current for the snapshot's update numbered
// update.
type tally struct {
	update uint64
	k      int
	// rows[n*k+i] is the number of pods on node n matching constraint i,
	// -1 where the node does not count for it (countRow).
	rows []int32
	// domains[n*k+i] is node n's domain of constraint i when rows was
	// summed, and sums[i] the sum of the counted rows of each domain, for
	// the constraints with sums (not per host).
	domains []int32
	sums    [][]int64
	// numbering is the memo (nodeDomains) whose domain numbers domains
	// holds, for each constraint with sums.
	numbering []uint64
}

// tallyKey names the kind of pod: everything countRow reads besides the
// nodes.
func tallyKey(pod *corev1.Pod, cons []constraint, f *nodeFilter, requireAll bool) string {
	var b strings.Builder
	b.WriteString(pod.Namespace)
	if requireAll {
		b.WriteString("\x00all")
	}
	for i := range cons {
		c := &cons[i]
		b.WriteString("\x00")
		b.WriteString(c.topologyKey)
		b.WriteString("\x00")
		b.WriteString(c.selector.String())
		if c.honorNodeAffinity {
			b.WriteString("\x00affinity")
		}
		if c.honorTaints {
			b.WriteString("\x00taints")
		}
	}
	if f.needAffinity {
		b.WriteString("\x00")
		b.WriteString(labels.Set(pod.Spec.NodeSelector).String())
		if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			b.WriteString("\x00")
			b.WriteString(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.String())
		}
	}
	if f.needTaints {
		for i := range pod.Spec.Tolerations {
			b.WriteString("\x00")
			b.WriteString(pod.Spec.Tolerations[i].String())
		}
	}
	return b.String()
}

// domainSums returns, for each of pod's constraints cons that is summed
// per domain (summed[i]), the matching pods over all nodes in each domain
// of domains[i] (by number, in the memo numbered numbering[i], with the
// label values values[i]), and each constraint's memo of per-node counts.
// All counts are the pod kind's tally brought up to date.
func (pl *PodTopologySpread) domainSums(ctx context.Context, pod *corev1.Pod, all []*framework.NodeInfo, cons []constraint, f *nodeFilter,
	requireAll bool, summed []bool, domains [][]nodeDomain, values [][]string, numbering []uint64) (sums [][]int64, memos [][]countEntry) {
	key := tallyKey(pod, cons, f, requireAll)
	pl.tallies.mu.Lock()
	defer pl.tallies.mu.Unlock()
	if pl.tallies.byKey == nil || len(pl.tallies.byKey) > maxTallies {
		pl.tallies.byKey = map[string]*tally{}
	}
	t := pl.tallies.byKey[key]
	if t == nil {
		t = &tally{}
		pl.tallies.byKey[key] = t
	}
	queries := queriesOf(pod, cons)
	pass := pl.counts.begin(queries, len(all))
	defer pl.counts.end()
	memos = pass.memosOf(queries)

	k := len(cons)
	positions, latest, ok := pl.changes.since(t.update, len(all))
	if !ok || t.k != k || len(t.rows) != len(all)*k || !slices.Equal(t.numbering, numbering) {
		*t = tally{k: k, rows: make([]int32, len(all)*k), domains: make([]int32, len(all)*k), sums: make([][]int64, k),
			numbering: numbering}
		pl.parallel(ctx, len(all), func(n int) {
			countRow(t.rows[n*k:(n+1)*k], memos, n, all[n], pod.Namespace, cons, f, requireAll)
		})
		for i := range cons {
			if summed[i] {
				t.sums[i] = make([]int64, len(values[i]))
			}
		}
		for n := range all {
			t.add(n, domains, 1)
		}
	} else {
		for i := range t.sums {
			if t.sums[i] != nil && len(t.sums[i]) < len(values[i]) {
				t.sums[i] = append(t.sums[i], make([]int64, len(values[i])-len(t.sums[i]))...)
			}
		}
		for _, n := range positions {
			t.add(n, nil, -1)
			countRow(t.rows[n*k:(n+1)*k], memos, n, all[n], pod.Namespace, cons, f, requireAll)
			t.add(n, domains, 1)
		}
	}
	t.update = latest
	sums = make([][]int64, k)
	for i, s := range t.sums {
		sums[i] = slices.Clone(s)
	}
	return sums, memos
}

// add adds (sign 1) node n's row to the sums of its domains, recording
// them from domains, or takes it away (sign -1, domains nil) from the
// domains it was added to.
func (t *tally) add(n int, domains [][]nodeDomain, sign int64) {
	for i, sums := range t.sums {
		if sums == nil {
			continue
		}
		j := n*t.k + i
		if domains != nil {
			t.domains[j] = domains[i][n].id
		}
		if count := t.rows[j]; count > 0 {
			sums[t.domains[j]] += sign * int64(count)
		}
	}
}
