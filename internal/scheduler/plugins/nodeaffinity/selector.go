package nodeaffinity

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// term is a NodeSelectorTerm parsed once per pod, so that matching a node
// only compares strings: matchExpressions become a label selector and
// matchFields (metadata.name is the only node field) name comparisons.
// All of a term's requirements must hold.
type term struct {
	// labels is nil when the term has no matchExpressions.
	labels labels.Selector
	names  []nameRequirement
}

// nameRequirement is a metadata.name In (or NotIn) one node name.
type nameRequirement struct {
	name  string
	notIn bool
}

// parseTerm parses t; an empty term is reported by ok=false because it
// matches no node.
func parseTerm(t *corev1.NodeSelectorTerm) (parsed term, ok bool, err error) {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return term{}, false, nil
	}
	if len(t.MatchExpressions) > 0 {
		reqs := make([]labels.Requirement, 0, len(t.MatchExpressions))
		for _, e := range t.MatchExpressions {
			op, err := labelOperator(e.Operator)
			if err != nil {
				return term{}, false, err
			}
			r, err := labels.NewRequirement(e.Key, op, e.Values)
			if err != nil {
				return term{}, false, fmt.Errorf("node selector requirement %q: %w", e.Key, err)
			}
			reqs = append(reqs, *r)
		}
		parsed.labels = labels.NewSelector().Add(reqs...)
	}
	for _, f := range t.MatchFields {
		if f.Key != metav1.ObjectNameField {
			return term{}, false, fmt.Errorf("node selector field %q: only %s is supported", f.Key, metav1.ObjectNameField)
		}
		if len(f.Values) != 1 {
			return term{}, false, fmt.Errorf("node selector field %q: want exactly one value, got %d", f.Key, len(f.Values))
		}
		switch f.Operator {
		case corev1.NodeSelectorOpIn:
			parsed.names = append(parsed.names, nameRequirement{name: f.Values[0]})
		case corev1.NodeSelectorOpNotIn:
			parsed.names = append(parsed.names, nameRequirement{name: f.Values[0], notIn: true})
		default:
			return term{}, false, fmt.Errorf("node selector field %q: operator %q is not In or NotIn", f.Key, f.Operator)
		}
	}
	return parsed, true, nil
}

func labelOperator(op corev1.NodeSelectorOperator) (selection.Operator, error) {
	switch op {
	case corev1.NodeSelectorOpIn:
		return selection.In, nil
	case corev1.NodeSelectorOpNotIn:
		return selection.NotIn, nil
	case corev1.NodeSelectorOpExists:
		return selection.Exists, nil
	case corev1.NodeSelectorOpDoesNotExist:
		return selection.DoesNotExist, nil
	case corev1.NodeSelectorOpGt:
		return selection.GreaterThan, nil
	case corev1.NodeSelectorOpLt:
		return selection.LessThan, nil
	default:
		return "", fmt.Errorf("unknown node selector operator %q", op)
	}
}

// matches reports whether node satisfies every requirement of the term.
// It does not allocate.
func (t *term) matches(node *corev1.Node) bool {
	if t.labels != nil && !t.labels.Matches(labels.Set(node.Labels)) {
		return false
	}
	for _, r := range t.names {
		if (node.Name == r.name) == r.notIn {
			return false
		}
	}
	return true
}

// requiredSelector is a pod's nodeSelector and required node affinity:
// a node must match the nodeSelector and at least one affinity term.
type requiredSelector struct {
	nodeSelector map[string]string
	// hasAffinity is false when the pod has no required node affinity;
	// with it and no valid terms, no node matches.
	hasAffinity bool
	// terms holds the valid, non-empty terms. As upstream, a term that
	// does not parse never matches but does not fail the others.
	terms []term
}

func newRequiredSelector(pod *corev1.Pod) *requiredSelector {
	r := &requiredSelector{nodeSelector: pod.Spec.NodeSelector}
	ns := requiredAffinity(pod)
	if ns == nil {
		return r
	}
	r.hasAffinity = true
	r.terms = make([]term, 0, len(ns.NodeSelectorTerms))
	for i := range ns.NodeSelectorTerms {
		if t, ok, err := parseTerm(&ns.NodeSelectorTerms[i]); ok && err == nil {
			r.terms = append(r.terms, t)
		}
	}
	return r
}

// matches reports whether node fits the pod's nodeSelector and required
// node affinity. It does not allocate.
func (r *requiredSelector) matches(node *corev1.Node) bool {
	for k, v := range r.nodeSelector {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	if !r.hasAffinity {
		return true
	}
	for i := range r.terms {
		if r.terms[i].matches(node) {
			return true
		}
	}
	return false
}

func requiredAffinity(pod *corev1.Pod) *corev1.NodeSelector {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return nil
	}
	return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
}

// weightedTerm is a preferred term and the weight it adds when it matches.
type weightedTerm struct {
	term
	weight int64
}

// parsePreferred parses the pod's preferred terms, leaving out those with
// weight 0 and empty ones (they can add nothing). Unlike required terms,
// an invalid preferred term is an error, as upstream treats it.
func parsePreferred(pod *corev1.Pod) ([]weightedTerm, error) {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return nil, nil
	}
	prefs := a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	var out []weightedTerm
	var errs []error
	for i := range prefs {
		if prefs[i].Weight == 0 {
			continue
		}
		t, ok, err := parseTerm(&prefs[i].Preference)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			out = append(out, weightedTerm{term: t, weight: int64(prefs[i].Weight)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("preferred node affinity: %w", err)
	}
	return out, nil
}
