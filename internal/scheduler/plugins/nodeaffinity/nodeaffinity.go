// Package nodeaffinity implements the NodeAffinity plugin: a pod's
// nodeSelector and required node affinity filter nodes, and its preferred
// node affinity scores them.
package nodeaffinity

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "NodeAffinity"

// Reasons kubectl shows when this plugin rejects a pod.
const (
	// ErrReasonPod is for a node the nodeSelector or required node
	// affinity rules out.
	ErrReasonPod = "node(s) didn't match Pod's node affinity/selector"
	// ErrReasonConflict is for required terms that each name nodes by
	// metadata.name but together allow none.
	ErrReasonConflict = "pod affinity terms conflict"
)

const (
	preFilterStateKey framework.StateKey = "PreFilter" + Name
	preScoreStateKey  framework.StateKey = "PreScore" + Name
)

// NodeAffinity filters nodes by a pod's nodeSelector and required node
// affinity and scores them by its preferred node affinity.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin   = (*NodeAffinity)(nil)
	_ framework.FilterPlugin      = (*NodeAffinity)(nil)
	_ framework.EnqueueExtensions = (*NodeAffinity)(nil)
	_ framework.PreScorePlugin    = (*NodeAffinity)(nil)
	_ framework.ScorePlugin       = (*NodeAffinity)(nil)
	_ framework.ScoreExtensions   = (*NodeAffinity)(nil)
	_ framework.PluginFactory     = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &NodeAffinity{}, nil
}

// Name returns Name.
func (*NodeAffinity) Name() string { return Name }

// preFilterState holds the parsed required selector.
type preFilterState struct {
	required *requiredSelector
}

// Clone returns the state itself: it never changes once written.
func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter parses the pod's nodeSelector and required node affinity once
// (Skip when it has neither). When every required term names nodes by
// metadata.name In, only those nodes are worth filtering, and it returns
// them.
func (*NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	ns := requiredAffinity(pod)
	if ns == nil && len(pod.Spec.NodeSelector) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterStateKey, &preFilterState{required: newRequiredSelector(pod)})
	if ns == nil {
		return nil, nil
	}
	names := nodeNames(ns.NodeSelectorTerms)
	if names == nil {
		return nil, nil
	}
	if names.Len() == 0 {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonConflict)
	}
	return &framework.PreFilterResult{NodeNames: names}, nil
}

// nodeNames returns the only node names the terms can match, or nil when
// some term can match any name. Terms are ORed, so it is the union over
// terms; a term's metadata.name In requirements are ANDed, so within a
// term it is their intersection.
func nodeNames(terms []corev1.NodeSelectorTerm) sets.Set[string] {
	var all sets.Set[string]
	for i := range terms {
		var names sets.Set[string]
		for _, f := range terms[i].MatchFields {
			if f.Key != metav1.ObjectNameField || f.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			if names == nil {
				names = sets.New(f.Values...)
			} else {
				names = names.Intersection(sets.New(f.Values...))
			}
		}
		if names == nil {
			return nil
		}
		all = all.Union(names)
	}
	return all
}

// PreFilterExtensions returns nil: node affinity does not depend on other
// pods.
func (*NodeAffinity) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter rejects nodes the pod's nodeSelector or required node affinity
// rules out. Preemption cannot change a node's labels, hence
// UnschedulableAndUnresolvable.
func (*NodeAffinity) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if nodeInfo.Node == nil {
		return framework.AsStatus(errors.New("node not found"))
	}
	d, err := state.Read(preFilterStateKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("read %s state: %w", preFilterStateKey, err))
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s state has type %T", preFilterStateKey, d))
	}
	if !s.required.matches(nodeInfo.Node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonPod)
	}
	return nil
}

// EventsToRegister returns the events that can make a rejected pod fit: a
// new node, or new labels on one.
func (*NodeAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel}}
}
