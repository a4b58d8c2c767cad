// Package interpodaffinity implements the InterPodAffinity plugin: required
// pod affinity and anti-affinity as a filter (including the anti-affinity
// of pods already running, which binds both ways) and preferred terms as a
// score.
package interpodaffinity

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry and in failure messages.
const Name = "InterPodAffinity"

// Reasons kubectl shows for nodes this plugin rejects.
const (
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
)

// hardAffinityWeight is what an existing pod's required affinity term that
// matches the incoming pod adds to the score of its topology domain
// (upstream's default hardPodAffinityWeight).
const hardAffinityWeight int64 = 1

// InterPodAffinity filters and scores nodes by the pods already on them.
type InterPodAffinity struct {
	snapshot   framework.SharedLister
	namespaces corelisters.NamespaceLister
	parallel   func(ctx context.Context, n int, work func(i int))
	// existing and incoming remember PreFilter's per-node counts between
	// cycles: of the existing pods' terms, and of the incoming pod's.
	existing, incoming nodeCounts
}

var (
	_ framework.PreFilterPlugin     = (*InterPodAffinity)(nil)
	_ framework.PreFilterExtensions = (*InterPodAffinity)(nil)
	_ framework.FilterPlugin        = (*InterPodAffinity)(nil)
	_ framework.PreScorePlugin      = (*InterPodAffinity)(nil)
	_ framework.ScorePlugin         = (*InterPodAffinity)(nil)
	_ framework.ScoreExtensions     = (*InterPodAffinity)(nil)
	_ framework.EnqueueExtensions   = (*InterPodAffinity)(nil)
)

// New returns the plugin. It asks the informer factory for the namespace
// lister here so that the factory starts that informer with the others.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	f := h.SharedInformerFactory()
	if f == nil {
		return nil, fmt.Errorf("%s needs an informer factory", Name)
	}
	return &InterPodAffinity{
		snapshot:   h.SnapshotSharedLister(),
		namespaces: f.Core().V1().Namespaces().Lister(),
		parallel:   h.Parallelize,
	}, nil
}

// Name returns Name.
func (*InterPodAffinity) Name() string { return Name }

// EventsToRegister returns the events that can make a rejected pod fit:
// assigned pods appearing, leaving or changing labels, and nodes appearing
// or changing labels (topology domains).
func (*InterPodAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel},
	}
}

// namespaceLabels returns the labels of namespace ns, nil if it is not
// (yet) known: selectors then see a namespace without labels.
func (pl *InterPodAffinity) namespaceLabels(ns string) (labels.Set, error) {
	n, err := pl.namespaces.Get(ns)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get namespace %s: %w", ns, err)
	}
	return n.Labels, nil
}

// resolveNamespaces returns a copy of terms with each namespace selector
// replaced by the names of the namespaces it selects now, so that matching
// a pod needs no look-up of its namespace. An empty selector (all
// namespaces) is kept: it matches without labels.
func (pl *InterPodAffinity) resolveNamespaces(terms []framework.AffinityTerm) ([]framework.AffinityTerm, error) {
	out := slices.Clone(terms)
	for i := range out {
		if err := pl.resolveTerm(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveWeighted is resolveNamespaces for preferred terms.
func (pl *InterPodAffinity) resolveWeighted(terms []framework.WeightedAffinityTerm) ([]framework.WeightedAffinityTerm, error) {
	out := slices.Clone(terms)
	for i := range out {
		if err := pl.resolveTerm(&out[i].AffinityTerm); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveTerm resolves t's namespace selector in place; t must be a copy,
// its namespace set is replaced, not changed.
func (pl *InterPodAffinity) resolveTerm(t *framework.AffinityTerm) error {
	if t.NamespaceSelector == nil || t.NamespaceSelector.Empty() {
		return nil
	}
	nss, err := pl.namespaces.List(t.NamespaceSelector)
	if err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	names := t.Namespaces.Clone()
	for _, ns := range nss {
		names.Insert(ns.Name)
	}
	t.Namespaces = names
	t.NamespaceSelector = nil
	return nil
}

// matchesAll reports whether pod matches every term (and there is at
// least one). The terms' namespaces must have been resolved.
func matchesAll(terms []framework.AffinityTerm, pod *corev1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !terms[i].Matches(pod, nil) {
			return false
		}
	}
	return true
}
