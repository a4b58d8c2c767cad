package cache

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// sameForScheduling reports whether assigned pods a and b (two versions
// of one pod) look alike to the scheduler: metadata but for the
// resourceVersion and managedFields, the spec, and the parts of the
// status that plugins read (phase, start time, nominated node, the
// DisruptionTarget condition preemption looks for).
func sameForScheduling(a, b *corev1.Pod) bool {
	if a.UID != b.UID || a.Status.Phase != b.Status.Phase ||
		a.Status.NominatedNodeName != b.Status.NominatedNodeName ||
		!equality.Semantic.DeepEqual(a.Status.StartTime, b.Status.StartTime) ||
		!equality.Semantic.DeepEqual(disruptionTarget(a), disruptionTarget(b)) {
		return false
	}
	am, bm := a.ObjectMeta, b.ObjectMeta
	am.ResourceVersion, bm.ResourceVersion = "", ""
	am.ManagedFields, bm.ManagedFields = nil, nil
	return equality.Semantic.DeepEqual(am, bm) && equality.Semantic.DeepEqual(a.Spec, b.Spec)
}

// sameForSelectors reports whether a and b (two versions of one pod)
// count alike for label selectors: the same namespace and labels, and
// both or neither being deleted.
func sameForSelectors(a, b *corev1.Pod) bool {
	return a.Namespace == b.Namespace && maps.Equal(a.Labels, b.Labels) &&
		(a.DeletionTimestamp == nil) == (b.DeletionTimestamp == nil)
}

// disruptionTarget is pod's DisruptionTarget condition, or nil.
func disruptionTarget(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.DisruptionTarget {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
