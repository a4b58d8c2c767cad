package podtopologyspread

import (
	"context"
	"errors"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// invalidScore marks ignored nodes inside NormalizeScore.
const invalidScore = -1

// preScoreState is what PreScore computes once per pod for the
// ScheduleAnyway (or default) constraints.
type preScoreState struct {
	constraints []constraint
	// ignored are filtered nodes lacking a key of the pod's own
	// constraints: they score 0.
	ignored sets.Set[string]
	// nodes is the snapshot's list of all nodes this cycle.
	nodes []*framework.NodeInfo
	// domains[i] is the domain of constraint i of each of nodes, by
	// position, and values[i] the label value of each domain number.
	// counts[i] holds the matching pods in each domain, by number;
	// hostname constraints have none: a node is its own domain and Score
	// counts its pods directly.
	domains [][]nodeDomain
	values  [][]string
	counts  [][]int64
	// memos[i] holds the per-node counts of hostname constraint i, by
	// SnapshotIndex, which Score reads.
	memos [][]countEntry
	// weights[i] scales constraint i's counts by the log of its number of
	// domains, so that a constraint over few domains (zones) does not
	// drown one over many (hosts), and the reverse.
	weights []float64
}

// domainOf returns the domain of constraint i of ni, a node of this
// cycle's snapshot: -1 if its label value is not that of any listed node.
func (s *preScoreState) domainOf(i int, ni *framework.NodeInfo) nodeDomain {
	if n := ni.SnapshotIndex; n >= 0 && n < len(s.nodes) && s.nodes[n] == ni {
		return s.domains[i][n]
	}
	// Not from the snapshot (the scheduler never does this): by value.
	value, labeled := ni.Node.Labels[s.constraints[i].topologyKey]
	for id, v := range s.values[i] {
		if v == value {
			return nodeDomain{id: int32(id), labeled: labeled}
		}
	}
	return nodeDomain{id: -1, labeled: labeled}
}

// Clone returns s: nothing changes it after PreScore.
func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore counts matching pods per domain for the pod's ScheduleAnyway
// constraints, or for the system defaults when the pod has no constraints
// at all. It returns Skip when there are none.
func (pl *PodTopologySpread) PreScore(ctx context.Context, cs *framework.CycleState, pod *corev1.Pod, filtered []*framework.NodeInfo) *framework.Status {
	all, err := pl.snapshot.NodeInfos().List()
	if err != nil {
		return framework.AsStatus(fmt.Errorf("list nodes: %w", err))
	}
	if len(filtered) == 0 || len(all) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	// Only the pod's own constraints require nodes to carry every key; the
	// defaults still spread over hosts in clusters without zones.
	requireAll := len(pod.Spec.TopologySpreadConstraints) > 0
	var cons []constraint
	if requireAll {
		if cons, err = constraintsOf(pod, corev1.ScheduleAnyway); err != nil {
			return framework.AsStatus(err)
		}
	} else {
		cons = pl.defaultConstraints(pod)
	}
	if len(cons) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	k := len(cons)
	s := &preScoreState{
		constraints: cons,
		ignored:     sets.New[string](),
		nodes:       all,
		domains:     make([][]nodeDomain, k),
		values:      make([][]string, k),
		weights:     make([]float64, k),
	}
	// present[i] marks the domains of constraint i a filtered node lies
	// in, to size the constraint by.
	present := make([][]bool, k)
	summed := make([]bool, k)
	numbering := make([]uint64, k)
	for i := range cons {
		s.domains[i], s.values[i], numbering[i] = pl.domains.resolve(cons[i].topologyKey, all, pl.changes)
		if cons[i].topologyKey != corev1.LabelHostname {
			summed[i] = true
			present[i] = make([]bool, len(s.values[i]))
		}
	}
	sizes := make([]int, k)
	for _, ni := range filtered {
		node := ni.Node
		if requireAll && !hasAllKeys(node.Labels, cons) {
			s.ignored.Insert(node.Name)
			continue
		}
		for i := range cons {
			if !summed[i] {
				sizes[i]++
				continue
			}
			// Without requireAll, nodes lacking the key make up one
			// unnamed domain for sizing (as upstream counts them).
			if d := s.domainOf(i, ni); d.id >= 0 && !present[i][d.id] {
				present[i][d.id] = true
				sizes[i]++
			}
		}
	}
	for i := range cons {
		s.weights[i] = math.Log(float64(sizes[i] + 2))
	}
	// Count over all nodes, not just the filtered ones: pods on nodes the
	// pod cannot use still make a domain fuller. Score reads the sums of
	// the domains filtered nodes lie in, and the hostname constraints'
	// per-node counts from their memos.
	s.counts, s.memos = pl.domainSums(ctx, pod, all, cons, newNodeFilter(ctx, pod, cons), requireAll, summed, s.domains, s.values, numbering)
	cs.Write(preScoreStateKey, s)
	return nil
}

// Score sums, over the constraints whose key the node has, the matching
// pods in the node's domain (weighted) plus maxSkew-1, so that a larger
// skew tolerance flattens differences. Fewer pods means a lower raw score
// here and a higher one after NormalizeScore.
func (pl *PodTopologySpread) Score(_ context.Context, cs *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	s, err := readState[*preScoreState](cs, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	// The NodeInfo's copy of the name: reading the Node object's was a
	// cache miss per node scored.
	if len(s.ignored) > 0 && s.ignored.Has(nodeInfo.Name) {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		d := s.domainOf(i, nodeInfo)
		if !d.labeled {
			continue
		}
		var count int64
		switch {
		case s.counts[i] == nil:
			// Upstream counts a node's own pods here, whatever the node
			// inclusion policies; PreScore memoized them.
			count = int64(lookupCount(s.memos[i], nodeInfo, c.selector, pod.Namespace))
		case d.id >= 0:
			count = s.counts[i][d.id]
		}
		score += float64(count)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions returns the plugin, which normalizes its scores.
func (pl *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore inverts the raw scores onto [0, MaxNodeScore]: the
// emptiest node gets the most, and ignored nodes get 0.
func (pl *PodTopologySpread) NormalizeScore(_ context.Context, cs *framework.CycleState, _ *corev1.Pod, scores []framework.NodeScore) *framework.Status {
	s, err := readState[*preScoreState](cs, preScoreStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for i := range scores {
		if len(s.ignored) > 0 && s.ignored.Has(scores[i].Name) {
			scores[i].Score = invalidScore
			continue
		}
		lo = min(lo, scores[i].Score)
		hi = max(hi, scores[i].Score)
	}
	for i := range scores {
		switch {
		case scores[i].Score == invalidScore:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
