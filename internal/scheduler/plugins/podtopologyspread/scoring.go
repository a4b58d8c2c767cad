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
	// counts[i] maps each domain of constraint i that a filtered node lies
	// in to the matching pods there. Hostname constraints have no map:
	// a node is its own domain and Score counts its pods directly.
	counts []map[string]int64
	// memos[i] holds the per-node counts of hostname constraint i, by
	// SnapshotIndex, which Score reads.
	memos [][]countEntry
	// weights[i] scales constraint i's counts by the log of its number of
	// domains, so that a constraint over few domains (zones) does not
	// drown one over many (hosts), and the reverse.
	weights []float64
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
	s := &preScoreState{
		constraints: cons,
		ignored:     sets.New[string](),
		counts:      make([]map[string]int64, len(cons)),
		memos:       make([][]countEntry, len(cons)),
		weights:     make([]float64, len(cons)),
	}
	for i := range cons {
		if cons[i].topologyKey != corev1.LabelHostname {
			s.counts[i] = map[string]int64{}
		}
	}
	for _, ni := range filtered {
		node := ni.Node
		if requireAll && !hasAllKeys(node.Labels, cons) {
			s.ignored.Insert(node.Name)
			continue
		}
		for i := range cons {
			if s.counts[i] != nil {
				// Without requireAll, nodes lacking the key make up one
				// unnamed domain for sizing (as upstream counts them).
				s.counts[i][node.Labels[cons[i].topologyKey]] += 0
			}
		}
	}
	for i := range cons {
		size := len(s.counts[i])
		if s.counts[i] == nil {
			size = len(filtered) - s.ignored.Len()
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	// Count over all nodes, not just the filtered ones: pods on nodes the
	// pod cannot use still make a domain fuller.
	// Hostname constraints are counted on every node too, filling the
	// memo Score reads.
	perNode, pass := pl.countPerNode(ctx, pod, all, cons, newNodeFilter(ctx, pod, cons), requireAll, func(i int, node *corev1.Node) bool {
		if s.counts[i] == nil {
			return true
		}
		_, ok := s.counts[i][node.Labels[cons[i].topologyKey]]
		return ok
	})
	for i := range cons {
		if s.counts[i] == nil {
			s.memos[i] = pass.memo(countQuery(pod.Namespace, cons[i].selector))
		}
	}
	k := len(cons)
	for n, ni := range all {
		for i, count := range perNode[n*k : (n+1)*k] {
			if count > 0 && s.counts[i] != nil {
				s.counts[i][ni.Node.Labels[cons[i].topologyKey]] += int64(count)
			}
		}
	}
	cs.Write(preScoreStateKey, s)
	return nil
}

// Score sums, over the constraints whose key the node has, the matching
// pods in the node's domain (weighted) plus maxSkew-1, so that a larger
// skew tolerance flattens differences. Fewer pods means a lower raw score
// here and a higher one after NormalizeScore.
func (pl *PodTopologySpread) Score(_ context.Context, cs *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	node := nodeInfo.Node
	if node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	s, err := readState[*preScoreState](cs, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	if s.ignored.Has(node.Name) {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		value, ok := node.Labels[c.topologyKey]
		if !ok {
			continue
		}
		var count int64
		if s.counts[i] == nil {
			// Upstream counts a node's own pods here, whatever the node
			// inclusion policies; PreScore memoized them.
			count = int64(lookupCount(s.memos[i], nodeInfo, c.selector, pod.Namespace))
		} else {
			count = s.counts[i][value]
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
		if s.ignored.Has(scores[i].Name) {
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
