package frameworktest

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Term returns a pod (anti-)affinity term selecting app=app in
// topologyKey; modify can adjust it (namespaces, selectors).
func Term(topologyKey, app string, modify ...func(*corev1.PodAffinityTerm)) corev1.PodAffinityTerm {
	t := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		TopologyKey:   topologyKey,
	}
	for _, m := range modify {
		m(&t)
	}
	return t
}

// affinity returns the pod's affinity, creating it with empty pod
// affinity and anti-affinity (no terms) first.
func (b *PodBuilder) affinity() *corev1.Affinity {
	if b.pod.Spec.Affinity == nil {
		b.pod.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{}, PodAntiAffinity: &corev1.PodAntiAffinity{}}
	}
	return b.pod.Spec.Affinity
}

// RequiredAffinity adds a required pod affinity term.
func (b *PodBuilder) RequiredAffinity(t corev1.PodAffinityTerm) *PodBuilder {
	a := b.affinity().PodAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return b
}

// RequiredAntiAffinity adds a required pod anti-affinity term.
func (b *PodBuilder) RequiredAntiAffinity(t corev1.PodAffinityTerm) *PodBuilder {
	a := b.affinity().PodAntiAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return b
}

// PreferredAffinity adds a preferred pod affinity term.
func (b *PodBuilder) PreferredAffinity(weight int32, t corev1.PodAffinityTerm) *PodBuilder {
	a := b.affinity().PodAffinity
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return b
}

// PreferredAntiAffinity adds a preferred pod anti-affinity term.
func (b *PodBuilder) PreferredAntiAffinity(weight int32, t corev1.PodAffinityTerm) *PodBuilder {
	a := b.affinity().PodAntiAffinity
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return b
}

// Spread adds a topology spread constraint on topologyKey selecting
// app=app; modify can adjust it.
func (b *PodBuilder) Spread(maxSkew int32, topologyKey string, action corev1.UnsatisfiableConstraintAction, app string, modify ...func(*corev1.TopologySpreadConstraint)) *PodBuilder {
	c := corev1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: topologyKey, WhenUnsatisfiable: action,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
	}
	for _, m := range modify {
		m(&c)
	}
	b.pod.Spec.TopologySpreadConstraints = append(b.pod.Spec.TopologySpreadConstraints, c)
	return b
}
