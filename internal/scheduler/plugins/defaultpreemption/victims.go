package defaultpreemption

import (
	"context"
	"math"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// selectVictims finds the pods to evict from nodeInfo for pod to fit,
// working on nodeInfo and state, which must be the caller's copies. It
// removes every lower-priority pod; if pod then fits, it gives back as
// many as it can, the most important first and those whose eviction would
// break a PodDisruptionBudget before the others. It returns the victims
// (most important first) and how many of them break a budget.
func (pl *DefaultPreemption) selectVictims(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo, pdbs []pdbInfo) ([]*framework.PodInfo, int, *framework.Status) {
	prio := corev1helpers.PodPriority(pod)
	var potential []*framework.PodInfo
	for _, pi := range nodeInfo.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio {
			potential = append(potential, pi)
		}
	}
	if len(potential) == 0 {
		return nil, 0, framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNoVictims)
	}
	for _, pi := range potential {
		if st := pl.removePod(ctx, state, pod, pi, nodeInfo); st != nil {
			return nil, 0, st
		}
	}
	// If pod does not fit even with all of them gone, this node cannot
	// help. (Affinity to a lower-priority pod is not worth the search, as
	// upstream decided.)
	if st := pl.runFilters(ctx, state, pod, nodeInfo); !st.IsSuccess() {
		return nil, 0, st
	}
	slices.SortStableFunc(potential, func(a, b *framework.PodInfo) int { return compareImportance(a.Pod, b.Pod) })
	violating, nonViolating := splitByPDB(potential, pdbs)
	var victims []*framework.PodInfo
	// reprieve puts pi back and keeps it if pod still fits.
	reprieve := func(pi *framework.PodInfo) (bool, *framework.Status) {
		nodeInfo.AddPodInfo(pi)
		if st := pl.h.RunPreFilterExtensionAddPod(ctx, state, pod, pi, nodeInfo); !st.IsSuccess() {
			return false, st
		}
		if pl.runFilters(ctx, state, pod, nodeInfo).IsSuccess() {
			return true, nil
		}
		victims = append(victims, pi)
		return false, pl.removePod(ctx, state, pod, pi, nodeInfo)
	}
	numViolating := 0
	for _, pi := range violating {
		kept, st := reprieve(pi)
		if st != nil {
			return nil, 0, st
		}
		if !kept {
			numViolating++
		}
	}
	for _, pi := range nonViolating {
		if _, st := reprieve(pi); st != nil {
			return nil, 0, st
		}
	}
	slices.SortStableFunc(victims, func(a, b *framework.PodInfo) int { return compareImportance(a.Pod, b.Pod) })
	return victims, numViolating, nil
}

// removePod takes pi off nodeInfo and out of the plugins' state.
func (pl *DefaultPreemption) removePod(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, pi *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	nodeInfo.RemovePod(pi.Pod)
	if st := pl.h.RunPreFilterExtensionRemovePod(ctx, state, pod, pi, nodeInfo); !st.IsSuccess() {
		return st
	}
	return nil
}

// runFilters runs the filters on nodeInfo as it would be with the pods
// nominated to it that are at least as important as pod (they were
// promised the room), and, if there are any, without them too: their
// presence must not be what makes pod fit, say through affinity.
func (pl *DefaultPreemption) runFilters(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	prio := corev1helpers.PodPriority(pod)
	var withNominated *framework.NodeInfo
	var stateWith *framework.CycleState
	for _, pi := range pl.h.NominatedPodsForNode(nodeInfo.NodeName()) {
		if pi.Pod.UID == pod.UID || corev1helpers.PodPriority(pi.Pod) < prio {
			continue
		}
		if withNominated == nil {
			withNominated, stateWith = nodeInfo.Clone(), state.Clone()
		}
		withNominated.AddPodInfo(pi)
		if st := pl.h.RunPreFilterExtensionAddPod(ctx, stateWith, pod, pi, withNominated); !st.IsSuccess() {
			return st
		}
	}
	if withNominated != nil {
		if st := pl.h.RunFilterPlugins(ctx, stateWith, pod, withNominated); !st.IsSuccess() {
			return st
		}
	}
	return pl.h.RunFilterPlugins(ctx, state, pod, nodeInfo)
}

// splitByPDB sorts pods (in order) into those whose eviction, together
// with the earlier ones', would take a budget below zero allowed
// disruptions, and the rest.
func splitByPDB(pods []*framework.PodInfo, pdbs []pdbInfo) (violating, nonViolating []*framework.PodInfo) {
	allowed := make([]int32, len(pdbs))
	for i := range pdbs {
		allowed[i] = pdbs[i].allowed
	}
	for _, pi := range pods {
		p := pi.Pod
		violated := false
		// A pod without labels matches no budget.
		if len(p.Labels) > 0 {
			for i := range pdbs {
				b := &pdbs[i]
				if b.namespace != p.Namespace || !b.selector.Matches(labels.Set(p.Labels)) || b.disrupted[p.Name] {
					continue
				}
				allowed[i]--
				if allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, pi)
		} else {
			nonViolating = append(nonViolating, pi)
		}
	}
	return violating, nonViolating
}

// compareImportance orders pods most important first: higher priority,
// then the one running longer (evicting it loses more work).
func compareImportance(a, b *corev1.Pod) int {
	pa, pb := corev1helpers.PodPriority(a), corev1helpers.PodPriority(b)
	if pa != pb {
		if pa > pb {
			return -1
		}
		return 1
	}
	sa, sb := startTime(a), startTime(b)
	switch {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}

// startTime is when p started, in Unix nanoseconds; a pod not started yet
// counts as started last.
func startTime(p *corev1.Pod) int64 {
	if p.Status.StartTime == nil {
		return math.MaxInt64
	}
	return p.Status.StartTime.UnixNano()
}
