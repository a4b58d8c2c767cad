package podtopologyspread

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The system default constraints, used for pods without constraints of
// their own: spread softly over nodes and, less strictly, over zones.
const (
	defaultHostnameMaxSkew = 3
	defaultZoneMaxSkew     = 5
)

var (
	replicationControllerKind = corev1.SchemeGroupVersion.WithKind("ReplicationController")
	replicaSetKind            = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	statefulSetKind           = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
)

// defaultConstraints returns the system default (ScheduleAnyway)
// constraints for pod, or none when no Service or controller selects it:
// there is then no group to spread.
func (pl *PodTopologySpread) defaultConstraints(pod *corev1.Pod) []constraint {
	sel := pl.defaultSelector(pod)
	if sel.Empty() {
		return nil
	}
	return []constraint{
		{maxSkew: defaultHostnameMaxSkew, minDomains: 1, topologyKey: corev1.LabelHostname, selector: sel, honorNodeAffinity: true},
		{maxSkew: defaultZoneMaxSkew, minDomains: 1, topologyKey: corev1.LabelTopologyZone, selector: sel, honorNodeAffinity: true},
	}
}

// defaultSelector selects the pods that share pod's Services and its
// controlling ReplicationController, ReplicaSet or StatefulSet: the
// selectors of all of them together. Objects that cannot be read are left
// out; spreading is a preference.
func (pl *PodTopologySpread) defaultSelector(pod *corev1.Pod) labels.Selector {
	set := labels.Set{}
	podLabels := labels.Set(pod.Labels)
	if services, err := pl.services.Services(pod.Namespace).List(labels.Everything()); err == nil {
		for _, svc := range services {
			// A Service without a selector selects nothing (its endpoints
			// are managed by hand), not everything.
			if svc.Spec.Selector == nil {
				continue
			}
			if labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(podLabels) {
				set = labels.Merge(set, svc.Spec.Selector)
			}
		}
	}
	sel := labels.SelectorFromValidatedSet(set)
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return sel
	}
	gv, err := schema.ParseGroupVersion(owner.APIVersion)
	if err != nil {
		return sel
	}
	var ownerSelector *metav1.LabelSelector
	switch gv.WithKind(owner.Kind) {
	case replicationControllerKind:
		if rc, err := pl.controllers.ReplicationControllers(pod.Namespace).Get(owner.Name); err == nil {
			return labels.SelectorFromValidatedSet(labels.Merge(set, rc.Spec.Selector))
		}
	case replicaSetKind:
		if rs, err := pl.replicaSets.ReplicaSets(pod.Namespace).Get(owner.Name); err == nil {
			ownerSelector = rs.Spec.Selector
		}
	case statefulSetKind:
		if ss, err := pl.statefulSets.StatefulSets(pod.Namespace).Get(owner.Name); err == nil {
			ownerSelector = ss.Spec.Selector
		}
	}
	if ownerSelector == nil {
		return sel
	}
	other, err := metav1.LabelSelectorAsSelector(ownerSelector)
	if err != nil {
		return sel
	}
	if reqs, selectable := other.Requirements(); selectable {
		sel = sel.Add(reqs...)
	}
	return sel
}
