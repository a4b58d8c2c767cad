package defaultpreemption

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Bounds on how many candidate nodes a dry run looks for before it stops:
// a share of the cluster, but at least an absolute number, as upstream.
const (
	minCandidateNodesPercentage = 10
	minCandidateNodesAbsolute   = 100
)

// candidate is a node where preemption would make the pod fit.
type candidate struct {
	node string
	// index is the node's position in the dry run, to break ties the same
	// way however the parallel run finished.
	index int
	// victims are ordered most important first.
	victims       []*framework.PodInfo
	pdbViolations int
}

// dryRun selects victims on each node (on copies), in parallel, until it
// has enough candidates. It records why the others failed in statuses and
// returns the first internal error it met, if any.
func (pl *DefaultPreemption) dryRun(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo, pdbs []pdbInfo, statuses map[string]*framework.Status) ([]*candidate, error) {
	want := max(len(nodes)*minCandidateNodesPercentage/100, minCandidateNodesAbsolute)
	want = min(want, len(nodes))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu                      sync.Mutex
		nonViolating, violating []*candidate
		firstErr                error
	)
	pl.h.Parallelize(ctx, len(nodes), func(i int) {
		if ctx.Err() != nil {
			return
		}
		ni := nodes[i].Clone()
		victims, numViolating, st := pl.selectVictims(ctx, state.Clone(), pod, ni, pdbs)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case st.IsSuccess() && len(victims) > 0:
			c := &candidate{node: ni.NodeName(), index: i, victims: victims, pdbViolations: numViolating}
			if numViolating == 0 {
				nonViolating = append(nonViolating, c)
			} else {
				violating = append(violating, c)
			}
			if len(nonViolating) > 0 && len(nonViolating)+len(violating) >= want {
				cancel()
			}
		case st.IsSuccess():
			statuses[ni.NodeName()] = framework.AsStatus(fmt.Errorf("expected at least one victim pod on node %q", ni.NodeName()))
		default:
			statuses[ni.NodeName()] = st
			if st.Code() == framework.Error && firstErr == nil {
				firstErr = st.AsError()
			}
		}
	})
	byIndex := func(a, b *candidate) int { return a.index - b.index }
	slices.SortFunc(nonViolating, byIndex)
	slices.SortFunc(violating, byIndex)
	return append(nonViolating, violating...), firstErr
}

// pickCandidate returns the best candidate by upstream's criteria, each
// breaking the ties of the ones before: fewest budget violations, the
// least important most important victim, the smallest sum of victim
// priorities, the fewest victims, and the latest start among the most
// important victims (evicting younger pods loses less work); then the
// first.
func pickCandidate(cands []*candidate) *candidate {
	criteria := []func(c *candidate) int64{
		func(c *candidate) int64 { return -int64(c.pdbViolations) },
		func(c *candidate) int64 { return -int64(corev1helpers.PodPriority(c.victims[0].Pod)) },
		func(c *candidate) int64 {
			// Offset each priority to be positive so that more victims
			// never sum to less.
			var sum int64
			for _, v := range c.victims {
				sum += int64(corev1helpers.PodPriority(v.Pod)) + math.MaxInt32 + 1
			}
			return -sum
		},
		func(c *candidate) int64 { return -int64(len(c.victims)) },
		earliestTopStart,
	}
	for _, score := range criteria {
		if len(cands) == 1 {
			break
		}
		best := int64(math.MinInt64)
		var kept []*candidate
		for _, c := range cands {
			switch s := score(c); {
			case s > best:
				best, kept = s, append(kept[:0], c)
			case s == best:
				kept = append(kept, c)
			}
		}
		cands = kept
	}
	return cands[0]
}

// earliestTopStart is the earliest start time among c's victims of the
// highest priority.
func earliestTopStart(c *candidate) int64 {
	top := corev1helpers.PodPriority(c.victims[0].Pod)
	earliest := int64(math.MaxInt64)
	for _, v := range c.victims {
		if corev1helpers.PodPriority(v.Pod) == top {
			earliest = min(earliest, startTime(v.Pod))
		}
	}
	return earliest
}

// fitMessage summarizes why no node can be used after preemption, in the
// scheduler's usual form: "0/3 nodes are available: 1 reason, 2 other
// reason." with the reasons counted and sorted.
func fitMessage(numNodes int, statuses map[string]*framework.Status) string {
	counts := map[string]int{}
	for _, st := range statuses {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	reasons := make([]string, 0, len(counts))
	for r, n := range counts {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(reasons)
	msg := fmt.Sprintf(noNodeAvailableMessageFmt, numNodes)
	if len(reasons) > 0 {
		msg += " " + strings.Join(reasons, ", ") + "."
	}
	return msg
}
