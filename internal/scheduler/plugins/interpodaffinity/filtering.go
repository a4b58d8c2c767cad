package interpodaffinity

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// preFilterState is what PreFilter computes once per pod so that Filter is
// a handful of map look-ups per node.
type preFilterState struct {
	// affinity and antiAffinity are the incoming pod's required terms,
	// namespace selectors resolved; nsLabels are the labels of its
	// namespace, for existing pods' terms with namespace selectors.
	affinity     []framework.AffinityTerm
	antiAffinity []framework.AffinityTerm
	nsLabels     labels.Set
	// existingAnti counts, per domain, existing pods' required
	// anti-affinity terms that match the incoming pod: it may not go there.
	existingAnti topologyCounts
	// affinityCounts counts, per domain of each affinity term's key, the
	// pods that match all the incoming pod's affinity terms;
	// antiAffinityCounts, per domain of each anti-affinity term's key, the
	// pods that match that term.
	affinityCounts     topologyCounts
	antiAffinityCounts topologyCounts
}

// Clone copies the counts (preemption changes them); the terms are shared
// and never changed.
func (s *preFilterState) Clone() framework.StateData {
	out := *s
	out.existingAnti = s.existingAnti.clone()
	out.affinityCounts = s.affinityCounts.clone()
	out.antiAffinityCounts = s.antiAffinityCounts.clone()
	return &out
}

// countExisting adds delta for each required anti-affinity term of the
// existing pod pi, on node, that matches the incoming pod.
func (s *preFilterState) countExisting(incoming *corev1.Pod, pi *framework.PodInfo, node *corev1.Node, delta int64) {
	for i := range pi.RequiredAntiAffinityTerms {
		t := &pi.RequiredAntiAffinityTerms[i]
		if t.Matches(incoming, s.nsLabels) {
			s.existingAnti.add(node, t.TopologyKey, delta)
		}
	}
}

// countIncoming adds delta where existing (on node) matches the incoming
// pod's own required terms.
func (s *preFilterState) countIncoming(existing *corev1.Pod, node *corev1.Node, delta int64) {
	if matchesAll(s.affinity, existing) {
		for i := range s.affinity {
			s.affinityCounts.add(node, s.affinity[i].TopologyKey, delta)
		}
	}
	for i := range s.antiAffinity {
		if s.antiAffinity[i].Matches(existing, nil) {
			s.antiAffinityCounts.add(node, s.antiAffinity[i].TopologyKey, delta)
		}
	}
}

// countExistingOn returns what the existing pods on ni whose required
// anti-affinity terms match the incoming pod add to s's counts, nil for
// nothing.
func (s *preFilterState) countExistingOn(pod *corev1.Pod, ni *framework.NodeInfo) *preFilterState {
	local := preFilterState{nsLabels: s.nsLabels}
	for _, existing := range ni.PodsWithRequiredAntiAffinity {
		local.countExisting(pod, existing, ni.Node, 1)
	}
	if local.existingAnti == nil {
		return nil
	}
	return &local
}

// countIncomingOn returns what the pods on ni matching the incoming pod's
// own required terms add to s's counts, nil for nothing.
func (s *preFilterState) countIncomingOn(ni *framework.NodeInfo) *preFilterState {
	local := preFilterState{affinity: s.affinity, antiAffinity: s.antiAffinity}
	for _, existing := range ni.Pods {
		local.countIncoming(existing.Pod, ni.Node, 1)
	}
	if local.affinityCounts == nil && local.antiAffinityCounts == nil {
		return nil
	}
	return &local
}

func (s *preFilterState) merge(o *preFilterState) {
	s.existingAnti.merge(o.existingAnti)
	s.affinityCounts.merge(o.affinityCounts)
	s.antiAffinityCounts.merge(o.antiAffinityCounts)
}

// PreFilter counts, per topology domain, the existing pods whose required
// anti-affinity excludes the pod and the pods matching the pod's own
// required terms. It returns Skip when there is nothing to enforce.
func (pl *InterPodAffinity) PreFilter(ctx context.Context, cs *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	pi := framework.NewPodInfo(pod)
	if pi.ParseError != nil {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("parsing pod: %v", pi.ParseError))
	}
	s := &preFilterState{existingAnti: topologyCounts{}, affinityCounts: topologyCounts{}, antiAffinityCounts: topologyCounts{}}
	var err error
	if s.affinity, err = pl.resolveNamespaces(pi.RequiredAffinityTerms); err != nil {
		return nil, framework.AsStatus(err)
	}
	if s.antiAffinity, err = pl.resolveNamespaces(pi.RequiredAntiAffinityTerms); err != nil {
		return nil, framework.AsStatus(err)
	}
	if s.nsLabels, err = pl.namespaceLabels(pod.Namespace); err != nil {
		return nil, framework.AsStatus(err)
	}
	// Without terms of its own the pod is only constrained by pods with
	// required anti-affinity, which the snapshot lists separately.
	hasOwn := len(s.affinity)+len(s.antiAffinity) > 0
	all, err := pl.snapshot.NodeInfos().List()
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("list nodes: %w", err))
	}
	nodes := all
	if !hasOwn {
		if nodes, err = pl.snapshot.NodeInfos().HavePodsWithRequiredAntiAffinityList(); err != nil {
			return nil, framework.AsStatus(fmt.Errorf("list nodes: %w", err))
		}
		if len(nodes) == 0 {
			// No pod has required anti-affinity: nothing to count, nor to
			// remember (the memo would size itself to every node per query).
			return nil, framework.NewStatus(framework.Skip)
		}
	}
	// The existing pods' terms are matched against the incoming pod's
	// labels, the incoming pod's terms against the existing pods: two
	// memos, since pods of one workload often differ in a label that only
	// the first depends on.
	pl.existing.Lock()
	defer pl.existing.Unlock()
	existingMemo := pl.existing.Entries(existingQuery(pod, s.nsLabels), len(all))
	var incomingMemo []nodeEntry
	if hasOwn {
		pl.incoming.Lock()
		defer pl.incoming.Unlock()
		incomingMemo = pl.incoming.Entries(incomingQuery(s.affinity, s.antiAffinity), len(all))
	}
	var mu sync.Mutex
	pl.parallel(ctx, len(nodes), func(i int) {
		ni := nodes[i]
		if ni.Node == nil {
			return
		}
		existing := memoized(existingMemo, all, ni, func() *preFilterState { return s.countExistingOn(pod, ni) })
		var incoming *preFilterState
		if hasOwn {
			incoming = memoized(incomingMemo, all, ni, func() *preFilterState { return s.countIncomingOn(ni) })
		}
		if existing == nil && incoming == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if existing != nil {
			s.merge(existing)
		}
		if incoming != nil {
			s.merge(incoming)
		}
	})
	if !hasOwn && len(s.existingAnti) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	cs.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions returns the plugin: its counts depend on other pods.
func (pl *InterPodAffinity) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod counts podInfoToAdd as if it ran on nodeInfo (preemption,
// nominated pods).
func (pl *InterPodAffinity) AddPod(_ context.Context, cs *framework.CycleState, podToSchedule *corev1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return update(cs, podToSchedule, podInfoToAdd, nodeInfo, 1)
}

// RemovePod forgets podInfoToRemove on nodeInfo (preemption's victims).
func (pl *InterPodAffinity) RemovePod(_ context.Context, cs *framework.CycleState, podToSchedule *corev1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return update(cs, podToSchedule, podInfoToRemove, nodeInfo, -1)
}

func update(cs *framework.CycleState, podToSchedule *corev1.Pod, pi *framework.PodInfo, nodeInfo *framework.NodeInfo, delta int64) *framework.Status {
	if cs.SkipFilterPlugins[Name] || nodeInfo.Node == nil {
		return nil
	}
	s, err := readState[*preFilterState](cs, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.countExisting(podToSchedule, pi, nodeInfo.Node, delta)
	s.countIncoming(pi.Pod, nodeInfo.Node, delta)
	return nil
}

// Filter checks the pod's required affinity, its required anti-affinity
// and the existing pods' required anti-affinity, in that order. Only
// affinity is unresolvable: evicting pods never creates a matching pod,
// while it can remove the ones anti-affinity objects to.
func (pl *InterPodAffinity) Filter(_ context.Context, cs *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	node := nodeInfo.Node
	if node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	s, err := readState[*preFilterState](cs, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if !s.satisfiesAffinity(pod, node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	for i := range s.antiAffinity {
		if n, _ := s.antiAffinityCounts.onNode(node, s.antiAffinity[i].TopologyKey); n > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	if s.existingAnti.anyOnNode(node) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
	}
	return nil
}

// satisfiesAffinity reports whether node has every affinity term's
// topology key and matching pods in each of those domains. A pod that
// matches its own terms while no pod anywhere does is the first of its
// group and may go to any node with the keys; otherwise such groups could
// never start.
func (s *preFilterState) satisfiesAffinity(pod *corev1.Pod, node *corev1.Node) bool {
	found := true
	for i := range s.affinity {
		n, ok := s.affinityCounts.onNode(node, s.affinity[i].TopologyKey)
		if !ok {
			return false
		}
		if n <= 0 {
			found = false
		}
	}
	if found {
		return true
	}
	return len(s.affinityCounts) == 0 && matchesAll(s.affinity, pod)
}

// readState reads key from cs as a T.
func readState[T framework.StateData](cs *framework.CycleState, key framework.StateKey) (T, error) {
	var zero T
	d, err := cs.Read(key)
	if err != nil {
		return zero, fmt.Errorf("read %s state: %w", Name, err)
	}
	s, ok := d.(T)
	if !ok {
		return zero, fmt.Errorf("%s state has type %T", Name, d)
	}
	return s, nil
}
