// Package podtopologyspread implements the PodTopologySpread plugin: a
// pod's topologySpreadConstraints bound how unevenly matching pods may be
// spread over topology domains (DoNotSchedule, a filter) or steer it to
// the emptier domains (ScheduleAnyway, a score). Pods without constraints
// are spread by hostname and zone among the pods of their Services and
// controllers, as upstream's system defaults do.
package podtopologyspread

import (
	"context"
	"fmt"

	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "PodTopologySpread"

// Reasons kubectl shows for nodes this plugin rejects.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// PodTopologySpread filters and scores nodes by how matching pods are
// spread over topology domains.
type PodTopologySpread struct {
	snapshot     framework.SharedLister
	parallel     func(ctx context.Context, n int, work func(i int))
	services     corelisters.ServiceLister
	controllers  corelisters.ReplicationControllerLister
	replicaSets  appslisters.ReplicaSetLister
	statefulSets appslisters.StatefulSetLister
	// counts memoizes per-node match counts across cycles, domains the
	// nodes' topology domains, tallies PreScore's sums; changes tells
	// them which nodes changed between cycles.
	counts  matchCounts
	domains nodeDomains
	tallies tallies
	changes nodeChanges
}

var (
	_ framework.PreFilterPlugin     = (*PodTopologySpread)(nil)
	_ framework.PreFilterExtensions = (*PodTopologySpread)(nil)
	_ framework.FilterPlugin        = (*PodTopologySpread)(nil)
	_ framework.PreScorePlugin      = (*PodTopologySpread)(nil)
	_ framework.ScorePlugin         = (*PodTopologySpread)(nil)
	_ framework.ScoreExtensions     = (*PodTopologySpread)(nil)
	_ framework.EnqueueExtensions   = (*PodTopologySpread)(nil)
)

// New returns the plugin. It asks the informer factory for the listers the
// default constraints need here, so that the factory starts those
// informers with the others.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	f := h.SharedInformerFactory()
	if f == nil {
		return nil, fmt.Errorf("%s needs an informer factory", Name)
	}
	changes, _ := h.SnapshotSharedLister().(framework.NodeChangeLister)
	return &PodTopologySpread{
		snapshot:     h.SnapshotSharedLister(),
		changes:      nodeChanges{lister: changes},
		parallel:     h.Parallelize,
		services:     f.Core().V1().Services().Lister(),
		controllers:  f.Core().V1().ReplicationControllers().Lister(),
		replicaSets:  f.Apps().V1().ReplicaSets().Lister(),
		statefulSets: f.Apps().V1().StatefulSets().Lister(),
	}, nil
}

// Name returns Name.
func (*PodTopologySpread) Name() string { return Name }

// EventsToRegister returns the events that can make a rejected pod fit:
// assigned pods appearing, leaving or changing labels change the counts;
// nodes appearing, leaving or changing labels or taints change the
// domains.
func (*PodTopologySpread) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.Delete | framework.UpdateNodeLabel | framework.UpdateNodeTaint},
	}
}
