package interpodaffinity

import (
	"context"
	"fmt"
	"math"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// preScoreState holds the score of each topology domain; a node's score
// is the sum over the domains it lies in.
type preScoreState struct {
	scores topologyCounts
}

// Clone returns s: nothing changes it after PreScore.
func (s *preScoreState) Clone() framework.StateData { return s }

// scorer matches one existing pod against the incoming pod's preferred
// terms and the incoming pod against the existing pod's terms.
type scorer struct {
	pod           *corev1.Pod
	nsLabels      labels.Set
	preferred     []framework.WeightedAffinityTerm
	preferredAnti []framework.WeightedAffinityTerm
}

// score adds, to the domains of node (where existing runs), the weights
// of every term that links the two pods: the incoming pod's preferred
// terms (anti-affinity negative), and the existing pod's required
// affinity (weight hardAffinityWeight) and preferred terms, which are
// honored both ways.
func (sc *scorer) score(into *topologyCounts, existing *framework.PodInfo, node *corev1.Node) {
	for i := range sc.preferred {
		t := &sc.preferred[i]
		if t.Matches(existing.Pod, nil) {
			into.add(node, t.TopologyKey, int64(t.Weight))
		}
	}
	for i := range sc.preferredAnti {
		t := &sc.preferredAnti[i]
		if t.Matches(existing.Pod, nil) {
			into.add(node, t.TopologyKey, -int64(t.Weight))
		}
	}
	for i := range existing.RequiredAffinityTerms {
		t := &existing.RequiredAffinityTerms[i]
		if t.Matches(sc.pod, sc.nsLabels) {
			into.add(node, t.TopologyKey, hardAffinityWeight)
		}
	}
	for i := range existing.PreferredAffinityTerms {
		t := &existing.PreferredAffinityTerms[i]
		if t.Matches(sc.pod, sc.nsLabels) {
			into.add(node, t.TopologyKey, int64(t.Weight))
		}
	}
	for i := range existing.PreferredAntiAffinityTerms {
		t := &existing.PreferredAntiAffinityTerms[i]
		if t.Matches(sc.pod, sc.nsLabels) {
			into.add(node, t.TopologyKey, -int64(t.Weight))
		}
	}
}

// PreScore sums term weights per topology domain over the pods in the
// cluster. Unless the pod has preferred terms of its own, only pods with
// affinity terms can contribute, and only their nodes are visited. It
// returns Skip when no domain gets a weight.
func (pl *InterPodAffinity) PreScore(ctx context.Context, cs *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) *framework.Status {
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	pi := framework.NewPodInfo(pod)
	if pi.ParseError != nil {
		return framework.AsStatus(fmt.Errorf("parsing pod: %w", pi.ParseError))
	}
	sc := &scorer{pod: pod}
	var err error
	if sc.preferred, err = pl.resolveWeighted(pi.PreferredAffinityTerms); err != nil {
		return framework.AsStatus(err)
	}
	if sc.preferredAnti, err = pl.resolveWeighted(pi.PreferredAntiAffinityTerms); err != nil {
		return framework.AsStatus(err)
	}
	if sc.nsLabels, err = pl.namespaceLabels(pod.Namespace); err != nil {
		return framework.AsStatus(err)
	}
	hasOwn := len(sc.preferred)+len(sc.preferredAnti) > 0
	var all []*framework.NodeInfo
	if hasOwn {
		all, err = pl.snapshot.NodeInfos().List()
	} else {
		all, err = pl.snapshot.NodeInfos().HavePodsWithAffinityList()
	}
	if err != nil {
		return framework.AsStatus(fmt.Errorf("list nodes: %w", err))
	}
	s := &preScoreState{scores: topologyCounts{}}
	var mu sync.Mutex
	pl.parallel(ctx, len(all), func(i int) {
		ni := all[i]
		if ni.Node == nil || len(ni.Node.Labels) == 0 {
			return
		}
		pods := ni.PodsWithAffinity
		if hasOwn {
			pods = ni.Pods
		}
		var local topologyCounts
		for _, existing := range pods {
			sc.score(&local, existing, ni.Node)
		}
		if local == nil {
			return
		}
		mu.Lock()
		s.scores.merge(local)
		mu.Unlock()
	})
	if len(s.scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	cs.Write(preScoreStateKey, s)
	return nil
}

// Score returns the summed weight of the domains nodeInfo lies in; it may
// be negative until NormalizeScore.
func (pl *InterPodAffinity) Score(_ context.Context, cs *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(fmt.Errorf("node not found"))
	}
	s, err := readState[*preScoreState](cs, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	return s.scores.sumOnNode(nodeInfo.Node), nil
}

// ScoreExtensions returns the plugin, which normalizes its scores.
func (pl *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore maps the scores linearly onto [0, MaxNodeScore], lowest
// to highest; equal scores all become 0.
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores []framework.NodeScore) *framework.Status {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		lo = min(lo, s.Score)
		hi = max(hi, s.Score)
	}
	diff := hi - lo
	for i := range scores {
		if diff == 0 {
			scores[i].Score = 0
			continue
		}
		// Float, as upstream computes it, so rounding agrees.
		scores[i].Score = int64(float64(framework.MaxNodeScore) * (float64(scores[i].Score-lo) / float64(diff)))
	}
	return nil
}
