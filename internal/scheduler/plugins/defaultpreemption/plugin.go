// Package defaultpreemption implements the DefaultPreemption post-filter:
// when no node fits a pod, it looks for the node where evicting the
// fewest and least important lower-priority pods makes the pod fit, evicts
// them and nominates the pod to that node.
package defaultpreemption

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "DefaultPreemption"

// Reasons this plugin reports, as upstream words them. The status it
// returns carries MessagePrefix followed by one of the "not eligible"
// reasons, or by a summary of why each node could not be used ("0/N nodes
// are available: …", with ReasonNoVictims and ReasonNotHelpful among the
// per-node reasons).
const (
	MessagePrefix                = "preemption: "
	ReasonNoVictims              = "No preemption victims found for incoming pod"
	ReasonNotHelpful             = "Preemption is not helpful for scheduling"
	ReasonPreemptionPolicyNever  = "not eligible due to preemptionPolicy=Never."
	ReasonTerminatingOnNominated = "not eligible due to a terminating pod on the nominated node."
)

// What victims are told, as upstream words it: an Event, and a
// DisruptionTarget condition whose message names the scheduler.
const (
	preemptedEventReason      = "Preempted"
	preemptedEventAction      = "Preempting"
	preemptedEventNoteFmt     = "Preempted by pod %v on node %v"
	disruptionConditionMsgFmt = "%s: preempting to accommodate a higher priority pod"
	noNodeAvailableMessageFmt = "0/%d nodes are available:"
)

// DefaultPreemption preempts lower-priority pods for a pod that fits
// nowhere.
type DefaultPreemption struct {
	h     framework.Handle
	pdbs  policylisters.PodDisruptionBudgetLister
	clock clock.PassiveClock
}

var (
	_ framework.PostFilterPlugin  = (*DefaultPreemption)(nil)
	_ framework.EnqueueExtensions = (*DefaultPreemption)(nil)
)

// New returns the plugin. It asks the informer factory for the
// PodDisruptionBudget lister here so that the factory starts that
// informer with the others.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	f := h.SharedInformerFactory()
	if f == nil {
		return nil, fmt.Errorf("%s needs an informer factory", Name)
	}
	return &DefaultPreemption{h: h, pdbs: f.Policy().V1().PodDisruptionBudgets().Lister(), clock: clock.RealClock{}}, nil
}

// Name returns Name.
func (*DefaultPreemption) Name() string { return Name }

// EventsToRegister returns the events after which preemption may find
// room it did not find before: an assigned pod leaving (victims going
// away, or any pod freeing resources).
func (*DefaultPreemption) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.AssignedPodResource, ActionType: framework.Delete}}
}

// PostFilter preempts for pod, which fits no node: it nominates pod to the
// best node where evicting lower-priority pods makes room and evicts them.
// Without such a node it returns Unschedulable with the reasons.
func (pl *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, filtered *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	result, st := pl.preempt(ctx, state, pod, filtered)
	if msg := st.Message(); msg != "" {
		return result, framework.NewStatus(st.Code(), MessagePrefix+msg)
	}
	return result, st
}

func (pl *DefaultPreemption) preempt(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, filtered *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	if filtered == nil {
		filtered = &framework.NodeToStatus{}
	}
	if ok, reason := pl.eligible(pod, filtered); !ok {
		return nil, framework.NewStatus(framework.Unschedulable, reason)
	}
	all, err := pl.h.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("list nodes: %w", err))
	}
	pdbs, err := pl.listPDBs()
	if err != nil {
		return nil, framework.AsStatus(err)
	}
	// Only nodes the filters found merely Unschedulable can be helped by
	// evicting pods.
	var potential []*framework.NodeInfo
	statuses := map[string]*framework.Status{}
	for _, ni := range all {
		if filtered.Get(ni.NodeName()).Code() == framework.UnschedulableAndUnresolvable {
			statuses[ni.NodeName()] = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNotHelpful)
			continue
		}
		potential = append(potential, ni)
	}
	var candidates []*candidate
	if len(potential) > 0 {
		var dryRunErr error
		candidates, dryRunErr = pl.dryRun(ctx, state, pod, potential, pdbs, statuses)
		if len(candidates) == 0 && dryRunErr != nil {
			return nil, framework.AsStatus(dryRunErr)
		}
	}
	if len(candidates) == 0 {
		// The pod's old nomination, if any, no longer holds.
		if err := pl.clearNomination(ctx, pod); err != nil {
			return nil, framework.AsStatus(err)
		}
		return &framework.PostFilterResult{}, framework.NewStatus(framework.Unschedulable, fitMessage(len(all), statuses))
	}
	best := pickCandidate(candidates)
	if err := pl.prepare(ctx, pod, best); err != nil {
		return nil, framework.AsStatus(err)
	}
	return &framework.PostFilterResult{NominatedNodeName: best.node}, nil
}

// pdbInfo is a PodDisruptionBudget reduced to what preemption checks.
type pdbInfo struct {
	namespace string
	selector  labels.Selector
	allowed   int32
	// disrupted pods are already accounted for by the disruption
	// controller: evicting them spends nothing more.
	disrupted map[string]bool
}

// listPDBs returns the budgets; ones with an empty or invalid selector are
// left out, since they select no pods.
func (pl *DefaultPreemption) listPDBs() ([]pdbInfo, error) {
	list, err := pl.pdbs.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pod disruption budgets: %w", err)
	}
	out := make([]pdbInfo, 0, len(list))
	for _, pdb := range list {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		info := pdbInfo{namespace: pdb.Namespace, selector: sel, allowed: pdb.Status.DisruptionsAllowed, disrupted: map[string]bool{}}
		for name := range pdb.Status.DisruptedPods {
			info.disrupted[name] = true
		}
		out = append(out, info)
	}
	return out, nil
}
