package podtopologyspread

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// constraint is a topology spread constraint with its selector parsed and
// its defaults applied.
type constraint struct {
	maxSkew     int
	minDomains  int
	topologyKey string
	selector    labels.Selector
	// honorNodeAffinity counts only nodes the pod's node selector and
	// required node affinity admit (nodeAffinityPolicy, default Honor);
	// honorTaints only nodes whose NoSchedule/NoExecute taints the pod
	// tolerates (nodeTaintsPolicy, default Ignore).
	honorNodeAffinity bool
	honorTaints       bool
}

// constraintsOf returns pod's constraints with whenUnsatisfiable action.
// matchLabelKeys become requirements on the pod's own values of those
// labels; keys the pod lacks are ignored. (Where the API server has
// already folded them into the selector, adding them again changes
// nothing.)
func constraintsOf(pod *corev1.Pod, action corev1.UnsatisfiableConstraintAction) ([]constraint, error) {
	var out []constraint
	for i := range pod.Spec.TopologySpreadConstraints {
		c := &pod.Spec.TopologySpreadConstraints[i]
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("topology spread constraint %s selector: %w", c.TopologyKey, err)
		}
		for _, key := range c.MatchLabelKeys {
			v, ok := pod.Labels[key]
			if !ok {
				continue
			}
			r, err := labels.NewRequirement(key, selection.Equals, []string{v})
			if err != nil {
				return nil, fmt.Errorf("topology spread constraint %s matchLabelKeys: %w", c.TopologyKey, err)
			}
			sel = sel.Add(*r)
		}
		out = append(out, constraint{
			maxSkew:           int(c.MaxSkew),
			minDomains:        int(ptr.Deref(c.MinDomains, 1)),
			topologyKey:       c.TopologyKey,
			selector:          sel,
			honorNodeAffinity: c.NodeAffinityPolicy == nil || *c.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor,
			honorTaints:       c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor,
		})
	}
	return out, nil
}

// hasAllKeys reports whether nodeLabels carry every constraint's key.
func hasAllKeys(nodeLabels map[string]string, cons []constraint) bool {
	for i := range cons {
		if _, ok := nodeLabels[cons[i].topologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the pods of namespace ns that sel selects, leaving
// out terminating pods: they are on their way out and would otherwise
// hold back a rolling update.
func countMatching(pods []*framework.PodInfo, sel labels.Selector, ns string) int {
	n := 0
	for _, pi := range pods {
		p := pi.Pod
		if p.DeletionTimestamp != nil || p.Namespace != ns {
			continue
		}
		if sel.Matches(labels.Set(p.Labels)) {
			n++
		}
	}
	return n
}

// nodeFilter decides which nodes count for which constraint under the
// node inclusion policies. It is immutable and safe for concurrent use.
type nodeFilter struct {
	logger       klog.Logger
	pod          *corev1.Pod
	affinity     nodeaffinity.RequiredNodeAffinity
	needAffinity bool
	needTaints   bool
}

func newNodeFilter(ctx context.Context, pod *corev1.Pod, cons []constraint) *nodeFilter {
	f := &nodeFilter{logger: klog.FromContext(ctx), pod: pod, affinity: nodeaffinity.GetRequiredNodeAffinity(pod)}
	for i := range cons {
		f.needAffinity = f.needAffinity || cons[i].honorNodeAffinity
		f.needTaints = f.needTaints || cons[i].honorTaints
	}
	return f
}

// check returns whether node passes the pod's required node affinity and
// whether the pod tolerates the node's taints, each only if some
// constraint asks (true otherwise).
func (f *nodeFilter) check(node *corev1.Node) (affinityOK, taintsOK bool) {
	affinityOK, taintsOK = true, true
	if f.needAffinity {
		// A selector that does not parse admits nothing; the NodeAffinity
		// filter reports the error.
		affinityOK, _ = f.affinity.Match(node)
	}
	if f.needTaints {
		taintsOK = tolerates(f.logger, f.pod.Spec.Tolerations, node.Spec.Taints)
	}
	return affinityOK, taintsOK
}

// includes reports whether a node with the given check results counts for
// c.
func (c *constraint) includes(affinityOK, taintsOK bool) bool {
	return (!c.honorNodeAffinity || affinityOK) && (!c.honorTaints || taintsOK)
}

// tolerates reports whether tolerations tolerate every NoSchedule and
// NoExecute taint (PreferNoSchedule does not keep pods away).
func tolerates(logger klog.Logger, tolerations []corev1.Toleration, taints []corev1.Taint) bool {
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		ok := false
		for j := range tolerations {
			// Comparison operators (Lt, Gt) are only admitted by the API
			// server when enabled, so honoring them is safe.
			if tolerations[j].ToleratesTaint(logger, t, true) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
