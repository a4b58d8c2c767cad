package podtopologyspread

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// preFilterState is what PreFilter computes once per pod for the
// DoNotSchedule constraints, so that Filter is two map look-ups per
// constraint and node.
type preFilterState struct {
	constraints []constraint
	filter      *nodeFilter
	// self is 1 where the pod matches constraint i's selector itself: it
	// then adds to the count of the domain it lands in.
	self []int
	// counts[i] maps each domain (value of constraint i's key on a node
	// that counts for it) to the matching pods there; minimum[i] is the
	// smallest of those counts (0 without domains).
	counts  []map[string]int
	minimum []int
}

// Clone copies the counts (preemption changes them); the rest is shared
// and never changed.
func (s *preFilterState) Clone() framework.StateData {
	out := *s
	out.counts = make([]map[string]int, len(s.counts))
	for i, m := range s.counts {
		c := make(map[string]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out.counts[i] = c
	}
	out.minimum = append([]int(nil), s.minimum...)
	return &out
}

// add adds delta matching pods to domain value of constraint i, keeping
// the minimum current. Only a count that was the minimum going up (or a
// new domain) can raise the minimum, and then it is recomputed.
func (s *preFilterState) add(i int, value string, delta int) {
	m := s.counts[i]
	old, existed := m[value]
	n := old + delta
	m[value] = n
	switch {
	case !existed || (delta > 0 && old == s.minimum[i]):
		s.minimum[i] = minCount(m)
	case n < s.minimum[i]:
		s.minimum[i] = n
	}
}

func minCount(m map[string]int) int {
	first := true
	lo := 0
	for _, n := range m {
		if first || n < lo {
			lo, first = n, false
		}
	}
	return lo
}

// PreFilter counts, for each DoNotSchedule constraint, the matching pods
// in every domain over the nodes that count for it (those with all the
// constraints' keys, admitted by the inclusion policies). It returns Skip
// for pods without such constraints.
func (pl *PodTopologySpread) PreFilter(ctx context.Context, cs *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	cons, err := constraintsOf(pod, corev1.DoNotSchedule)
	if err != nil {
		return nil, framework.AsStatus(err)
	}
	if len(cons) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	nodes, err := pl.snapshot.NodeInfos().List()
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("list nodes: %w", err))
	}
	s := &preFilterState{
		constraints: cons,
		filter:      newNodeFilter(ctx, pod, cons),
		self:        make([]int, len(cons)),
		counts:      make([]map[string]int, len(cons)),
		minimum:     make([]int, len(cons)),
	}
	perNode := pl.countPerNode(ctx, pod, nodes, s.constraints, s.filter, true)
	k := len(cons)
	for i := range cons {
		if cons[i].selector.Matches(labels.Set(pod.Labels)) {
			s.self[i] = 1
		}
		size := 0
		if cons[i].topologyKey == corev1.LabelHostname {
			size = len(nodes)
		}
		s.counts[i] = make(map[string]int, size)
	}
	for n, ni := range nodes {
		for i, count := range perNode[n*k : (n+1)*k] {
			if count >= 0 {
				s.counts[i][ni.Node.Labels[cons[i].topologyKey]] += int(count)
			}
		}
	}
	for i := range cons {
		s.minimum[i] = minCount(s.counts[i])
	}
	cs.Write(preFilterStateKey, s)
	return nil, nil
}

// countPerNode counts, in parallel, the pods matching each constraint on
// each node: result[n*len(cons)+i] for node n and constraint i, -1 where
// the node does not count for the constraint. With requireAll, nodes
// lacking one of the keys count for none.
func (pl *PodTopologySpread) countPerNode(ctx context.Context, pod *corev1.Pod, nodes []*framework.NodeInfo, cons []constraint, f *nodeFilter, requireAll bool) []int32 {
	k := len(cons)
	out := make([]int32, len(nodes)*k)
	queries := queriesOf(pod, cons)
	pass := pl.counts.begin(queries, len(nodes))
	defer pl.counts.end()
	memos := pass.memosOf(queries)
	pl.parallel(ctx, len(nodes), func(n int) {
		countRow(out[n*k:(n+1)*k], memos, n, nodes[n], pod.Namespace, cons, f, requireAll)
	})
	return out
}

// countRow fills row with the pods on ni, at position n, matching each
// constraint (-1 where ni does not count for it), through the constraints'
// memos of a pass.
func countRow(row []int32, memos [][]countEntry, n int, ni *framework.NodeInfo, ns string, cons []constraint, f *nodeFilter, requireAll bool) {
	for i := range row {
		row[i] = -1
	}
	node := ni.Node
	if node == nil || (requireAll && !hasAllKeys(node.Labels, cons)) {
		return
	}
	affinityOK, taintsOK := f.check(node)
	for i := range cons {
		if c := &cons[i]; c.includes(affinityOK, taintsOK) {
			row[i] = countAt(memos[i], n, ni, c.selector, ns)
		}
	}
}

// PreFilterExtensions returns the plugin: its counts depend on other pods.
func (pl *PodTopologySpread) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod counts podInfoToAdd as if it ran on nodeInfo (preemption,
// nominated pods).
func (pl *PodTopologySpread) AddPod(_ context.Context, cs *framework.CycleState, podToSchedule *corev1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return update(cs, podToSchedule, podInfoToAdd.Pod, nodeInfo, 1)
}

// RemovePod forgets podInfoToRemove on nodeInfo (preemption's victims).
func (pl *PodTopologySpread) RemovePod(_ context.Context, cs *framework.CycleState, podToSchedule *corev1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return update(cs, podToSchedule, podInfoToRemove.Pod, nodeInfo, -1)
}

func update(cs *framework.CycleState, podToSchedule, pod *corev1.Pod, nodeInfo *framework.NodeInfo, delta int) *framework.Status {
	node := nodeInfo.Node
	if cs.SkipFilterPlugins[Name] || node == nil || pod.Namespace != podToSchedule.Namespace {
		return nil
	}
	s, err := readState[*preFilterState](cs, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if !hasAllKeys(node.Labels, s.constraints) {
		return nil
	}
	affinityOK, taintsOK := s.filter.check(node)
	for i := range s.constraints {
		c := &s.constraints[i]
		if c.includes(affinityOK, taintsOK) && c.selector.Matches(labels.Set(pod.Labels)) {
			s.add(i, node.Labels[c.topologyKey], delta)
		}
	}
	return nil
}

// Filter rejects a node when placing the pod there would make its domain
// exceed the global minimum by more than maxSkew (with fewer domains than
// minDomains, the minimum counts as 0). A node without a constraint's key
// is unresolvable: evicting pods does not label it.
func (pl *PodTopologySpread) Filter(_ context.Context, cs *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	node := nodeInfo.Node
	if node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	s, err := readState[*preFilterState](cs, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		value, ok := node.Labels[c.topologyKey]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		lo := s.minimum[i]
		if len(s.counts[i]) < c.minDomains {
			lo = 0
		}
		if s.counts[i][value]+s.self[i]-lo > c.maxSkew {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
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
