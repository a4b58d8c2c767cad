package runtime

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// RunPreFilterPlugins runs every pre-filter plugin. Plugins returning
// Skip are recorded in state.SkipFilterPlugins. The node sets plugins
// return are intersected (nil: all nodes); an empty intersection makes
// the pod unschedulable. A rejection names its plugin.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	var result *framework.PreFilterResult
	var narrowing []string
	skipped := map[string]bool{}
	for _, pl := range f.preFilter {
		r, s := pl.PreFilter(ctx, state, pod, nodes)
		switch {
		case s.IsSkip():
			skipped[pl.Name()] = true
			continue
		case s.IsRejected():
			return nil, tagged(s, pl.Name())
		case !s.IsSuccess():
			return nil, asError(s, "PreFilter", pl.Name())
		}
		if r == nil || r.NodeNames == nil {
			continue
		}
		narrowing = append(narrowing, pl.Name())
		if result == nil {
			result = &framework.PreFilterResult{NodeNames: sets.New(r.NodeNames.UnsortedList()...)}
		} else {
			result.NodeNames = result.NodeNames.Intersection(r.NodeNames)
		}
		if result.NodeNames.Len() == 0 {
			msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) [%s] simultaneously", strings.Join(narrowing, " "))
			if len(narrowing) == 1 {
				msg = fmt.Sprintf("node(s) didn't satisfy plugin %s", narrowing[0])
			}
			return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, msg).WithPlugin(pl.Name())
		}
	}
	filters := f.filter
	if len(skipped) > 0 {
		state.SkipFilterPlugins = skipped
		filters = make([]framework.FilterPlugin, 0, len(f.filter))
		for _, pl := range f.filter {
			if !skipped[pl.Name()] {
				filters = append(filters, pl)
			}
		}
	}
	state.SetFilters(filters)
	return result, nil
}

// RunPreFilterExtensionAddPod tells every pre-filter plugin with
// extensions that podInfoToAdd runs on nodeInfo (a what-if of preemption
// or of a nominated pod).
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	for _, pl := range f.preFilter {
		ext := pl.PreFilterExtensions()
		if ext == nil || state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		if s := ext.AddPod(ctx, state, podToSchedule, podInfoToAdd, nodeInfo); !s.IsSuccess() {
			return asError(s, "PreFilter AddPod", pl.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod tells every pre-filter plugin with
// extensions that podInfoToRemove no longer runs on nodeInfo.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	for _, pl := range f.preFilter {
		ext := pl.PreFilterExtensions()
		if ext == nil || state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		if s := ext.RemovePod(ctx, state, podToSchedule, podInfoToRemove, nodeInfo); !s.IsSuccess() {
			return asError(s, "PreFilter RemovePod", pl.Name())
		}
	}
	return nil
}

// RunFilterPlugins runs the filters on one node, stopping at the first
// that does not pass; its status names the plugin. Safe for concurrent
// use on different nodes.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	filters, set := state.Filters()
	if !set {
		filters = f.filter
	}
	for _, pl := range filters {
		if !set && state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		s := pl.Filter(ctx, state, pod, nodeInfo)
		if s.IsSuccess() {
			continue
		}
		if !s.IsRejected() {
			return asError(s, "Filter", pl.Name())
		}
		return tagged(s, pl.Name())
	}
	return nil
}

// RunFilterPluginsWithNominatedPods runs the filters on one node taking
// into account pods nominated to it with the same or a higher priority:
// the pod must fit both with them (they will take their place) and
// without them (they may never arrive; affinity must hold alone).
func (f *Framework) RunFilterPluginsWithNominatedPods(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	added, withState, withInfo, s := f.addNominatedPods(ctx, state, pod, nodeInfo)
	if !s.IsSuccess() {
		return s
	}
	if !added {
		return f.RunFilterPlugins(ctx, state, pod, nodeInfo)
	}
	if s := f.RunFilterPlugins(ctx, withState, pod, withInfo); !s.IsSuccess() {
		return s
	}
	return f.RunFilterPlugins(ctx, state, pod, nodeInfo)
}

func (f *Framework) addNominatedPods(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) (bool, *framework.CycleState, *framework.NodeInfo, *framework.Status) {
	// Asked before the node is looked at: its object is often not in the
	// processor's cache, and there is rarely a nomination.
	if f.cfg.Nominator == nil || !f.cfg.Nominator.HasNominatedPods() || nodeInfo.Node == nil {
		return false, state, nodeInfo, nil
	}
	nominated := f.NominatedPodsForNode(nodeInfo.Name)
	if len(nominated) == 0 {
		return false, state, nodeInfo, nil
	}
	var outState *framework.CycleState
	var outInfo *framework.NodeInfo
	prio := priority(pod)
	for _, pi := range nominated {
		if pi.Pod.UID == pod.UID || priority(pi.Pod) < prio {
			continue
		}
		if outInfo == nil {
			outState, outInfo = state.Clone(), nodeInfo.Clone()
		}
		outInfo.AddPodInfo(pi)
		if s := f.RunPreFilterExtensionAddPod(ctx, outState, pod, pi, outInfo); !s.IsSuccess() {
			return false, state, nodeInfo, s
		}
	}
	if outInfo == nil {
		return false, state, nodeInfo, nil
	}
	return true, outState, outInfo, nil
}

func priority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// RunPostFilterPlugins runs the post-filter plugins (preemption) after
// no node fit. The first success wins; an UnschedulableAndUnresolvable
// or error status ends the run; otherwise the reasons of all plugins are
// joined.
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, filtered *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	var result *framework.PostFilterResult
	var reasons []string
	rejector := ""
	for _, pl := range f.postFilter {
		r, s := pl.PostFilter(ctx, state, pod, filtered)
		switch {
		case s.IsSuccess():
			return r, nil
		case s.Code() == framework.UnschedulableAndUnresolvable:
			return r, tagged(s, pl.Name())
		case !s.IsRejected():
			return nil, asError(s, "PostFilter", pl.Name())
		}
		if r != nil {
			result = r
		}
		reasons = append(reasons, s.Reasons()...)
		if rejector == "" {
			rejector = pl.Name()
		}
	}
	return result, framework.NewStatus(framework.Unschedulable, reasons...).WithPlugin(rejector)
}
