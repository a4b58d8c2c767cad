package scheduler

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// errNoNodesAvailable is the failure when the cluster has no nodes; its
// text is what kube-scheduler reports.
var errNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Kubernetes' bounds on the adaptive share of nodes searched.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// scheduleOne runs one scheduling cycle: pop a pod, pick a node, assume
// the pod there and start its binding cycle.
func (s *Scheduler) scheduleOne(ctx context.Context) {
	qpi, err := s.queue.Pop(ctx)
	if err != nil {
		return // ctx ended
	}
	pod := qpi.Pod
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	ctx = klog.NewContext(ctx, logger)
	// A stale update may have queued a pod the cache already holds
	// (assumed, or bound before the queue heard of it).
	if _, cached := s.cache.GetPod(pod); cached || pod.DeletionTimestamp != nil {
		logger.V(4).Info("Skipping pod: being deleted or already on a node")
		s.queue.Done(pod)
		return
	}
	state := framework.NewCycleState()
	nodeName, err := s.schedulePod(ctx, state, pod)
	if err != nil {
		s.handleScheduleError(ctx, state, qpi, err)
		return
	}
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = nodeName
	if err := s.cache.AssumePod(assumed); err != nil {
		s.handleFailure(ctx, qpi, failure{err: err})
		return
	}
	s.queue.Nominator().DeleteNominatedPodIfExists(pod)
	if st := s.fwk.RunReservePluginsReserve(ctx, state, assumed, nodeName); !st.IsSuccess() {
		s.undoAssume(ctx, state, assumed)
		s.handleFailure(ctx, qpi, statusFailure(st))
		return
	}
	permit, wait := s.fwk.RunPermitPlugins(ctx, state, assumed, nodeName)
	if !permit.IsSuccess() && permit.Code() != framework.Wait {
		s.undoAssume(ctx, state, assumed)
		s.handleFailure(ctx, qpi, statusFailure(permit))
		return
	}
	if !s.bindings.run(ctx, func() { s.bindingCycle(ctx, state, qpi, assumed, permit, wait) }) {
		s.undoAssume(ctx, state, assumed)
		s.queue.Done(pod)
	}
}

// undoAssume releases what the scheduling cycle took for a pod whose
// placement was abandoned.
func (s *Scheduler) undoAssume(ctx context.Context, state *framework.CycleState, assumed *corev1.Pod) {
	s.fwk.RunReservePluginsUnreserve(ctx, state, assumed, assumed.Spec.NodeName)
	if err := s.cache.ForgetPod(assumed); err != nil {
		klog.FromContext(ctx).Error(err, "Forgetting an assumed pod failed")
	}
	// The resources it held are free again.
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.AssignedPodResource, ActionType: framework.Delete})
}

// schedulePod picks a node for pod from a fresh snapshot.
func (s *Scheduler) schedulePod(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) (string, error) {
	s.cache.UpdateSnapshot(s.snapshot)
	if s.snapshot.NumNodes() == 0 {
		return "", errNoNodesAvailable
	}
	feasible, diagnosis, err := s.findNodesThatFitPod(ctx, state, pod)
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		return "", &FitError{NumAllNodes: s.snapshot.NumNodes(), Diagnosis: diagnosis}
	}
	if len(feasible) == 1 {
		return feasible[0].Name, nil
	}
	if st := s.fwk.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return "", st.AsError()
	}
	scores, st := s.fwk.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return selectHost(scores, s.rand), nil
}

// findNodesThatFitPod runs the pre-filters, then the filters over the
// nodes the pre-filters left: the nominated node first, if any.
func (s *Scheduler) findNodesThatFitPod(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) ([]*framework.NodeInfo, Diagnosis, error) {
	diagnosis := Diagnosis{
		NodeToStatus:         &framework.NodeToStatus{Statuses: map[string]*framework.Status{}},
		UnschedulablePlugins: sets.New[string](),
	}
	allNodes, err := s.snapshot.NodeInfos().List()
	if err != nil {
		return nil, diagnosis, err
	}
	preRes, st := s.fwk.RunPreFilterPlugins(ctx, state, pod, allNodes)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, diagnosis, st.AsError()
		}
		// Every node shares the pre-filter's verdict.
		diagnosis.NodeToStatus.AbsentStatus = st
		diagnosis.PreFilterMsg = st.Message()
		diagnosis.addPlugin(st)
		return nil, diagnosis, nil
	}
	// A node preemption made room on is likely the only one that fits:
	// try it first.
	if name := pod.Status.NominatedNodeName; name != "" {
		if ni, err := s.snapshot.Get(name); err == nil && (preRes == nil || preRes.NodeNames == nil || preRes.NodeNames.Has(name)) {
			st := s.fwk.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni)
			switch {
			case st.IsSuccess():
				return []*framework.NodeInfo{ni}, diagnosis, nil
			case !st.IsRejected():
				return nil, diagnosis, st.AsError()
			}
		}
	}
	nodes := allNodes
	if preRes != nil && preRes.NodeNames != nil {
		nodes = make([]*framework.NodeInfo, 0, preRes.NodeNames.Len())
		for _, ni := range allNodes {
			if preRes.NodeNames.Has(ni.Name) {
				nodes = append(nodes, ni)
			}
		}
		diagnosis.NodeToStatus.AbsentStatus = framework.NewStatus(framework.UnschedulableAndUnresolvable,
			"node is filtered out by the prefilter result")
	}
	feasible, err := s.findNodesThatPassFilters(ctx, state, pod, &diagnosis, nodes)
	return feasible, diagnosis, err
}

// statusScratch holds findNodesThatPassFilters' per-node statuses between
// cycles.
var statusScratch = sync.Pool{New: func() any { return new([]*framework.Status) }}

// findNodesThatPassFilters filters nodes in parallel, starting where the
// previous cycle stopped so that every node gets its turn, until
// numFeasibleNodesToFind nodes fit.
func (s *Scheduler) findNodesThatPassFilters(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, diagnosis *Diagnosis, nodes []*framework.NodeInfo) ([]*framework.NodeInfo, error) {
	n := len(nodes)
	if n == 0 {
		return nil, nil
	}
	want := s.numFeasibleNodesToFind(n)
	start := s.nextStartNodeIndex % n
	if !s.fwk.HasFilterPlugins() {
		feasible := make([]*framework.NodeInfo, want)
		for i := range feasible {
			feasible[i] = nodes[(start+i)%n]
		}
		s.nextStartNodeIndex = (start + want) % n
		return feasible, nil
	}
	feasible := make([]*framework.NodeInfo, want)
	// statuses (a slot per node, nearly all nil) is reused across cycles.
	scratch := statusScratch.Get().(*[]*framework.Status)
	defer func() {
		clear(*scratch)
		statusScratch.Put(scratch)
	}()
	if cap(*scratch) < n {
		*scratch = make([]*framework.Status, n)
	}
	statuses := (*scratch)[:n]
	var found atomic.Int32
	var once sync.Once
	var failed error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.fwk.Parallelize(ctx, n, func(i int) {
		if ctx.Err() != nil {
			return // enough found, or failed: the rest stay unevaluated
		}
		framework.Prefetch(nodes[(start+i+framework.PrefetchAhead)%n])
		ni := nodes[(start+i)%n]
		st := s.fwk.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni)
		switch {
		case st.IsSuccess():
			if k := int(found.Add(1)); k <= want {
				feasible[k-1] = ni
				if k == want {
					cancel()
				}
			} else {
				found.Add(-1)
			}
		case st.IsRejected():
			statuses[i] = st
		case int(found.Load()) < want: // not a plugin seeing our cancel
			once.Do(func() { failed = st.AsError() })
			cancel()
		}
	})
	if failed != nil {
		return nil, failed
	}
	processed := int(found.Load())
	for i, st := range statuses {
		if st != nil {
			processed++
			diagnosis.NodeToStatus.Statuses[nodes[(start+i)%n].Name] = st
			diagnosis.addPlugin(st)
		}
	}
	s.nextStartNodeIndex = (start + processed) % n
	return feasible[:found.Load()], nil
}

// numFeasibleNodesToFind is how many fitting nodes are enough to score:
// all of a small cluster, else PercentageOfNodesToScore of the nodes (or
// an adaptive share falling from 50% to 5% as the cluster grows), never
// fewer than 100.
func (s *Scheduler) numFeasibleNodesToFind(numAllNodes int) int {
	pct := int(s.opts.PercentageOfNodesToScore)
	if numAllNodes < minFeasibleNodesToFind || pct >= 100 {
		return numAllNodes
	}
	if pct == 0 {
		pct = max(50-numAllNodes/125, minFeasibleNodesPercentageToFind)
	}
	return max(numAllNodes*pct/100, minFeasibleNodesToFind)
}

// selectHost returns the node with the highest score, choosing uniformly
// among ties (reservoir sampling, one pass).
func selectHost(scores []framework.NodeScore, r *rand.Rand) string {
	best := scores[0]
	ties := 1
	for _, ns := range scores[1:] {
		switch {
		case ns.Score > best.Score:
			best, ties = ns, 1
		case ns.Score == best.Score:
			ties++
			if r.IntN(ties) == 0 {
				best = ns
			}
		}
	}
	return best.Name
}
