package nodelifecycle

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// taintID is what makes a taint unique on a node.
type taintID struct {
	key    string
	effect corev1.TaintEffect
}

func idOf(t corev1.Taint) taintID { return taintID{t.Key, t.Effect} }

// conditionTaints returns the taints node's status and spec call for, and
// the taints the controller owns on it: an owned taint that is not wanted
// is removed, a taint that is not owned is never touched. While the node
// has never posted Ready, the Ready taints are not owned, so that taints
// the kubelet registered with survive until it reports.
func conditionTaints(node *corev1.Node) (want []corev1.Taint, owned map[taintID]bool) {
	owned = map[taintID]bool{{corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule}: true}
	if node.Spec.Unschedulable {
		want = append(want, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
	// A condition that is True maps to the NoSchedule taint that keeps new
	// pods away, as upstream's "taint nodes by condition" does.
	for _, p := range []struct {
		condition corev1.NodeConditionType
		key       string
	}{
		{corev1.NodeMemoryPressure, corev1.TaintNodeMemoryPressure},
		{corev1.NodeDiskPressure, corev1.TaintNodeDiskPressure},
		{corev1.NodePIDPressure, corev1.TaintNodePIDPressure},
		{corev1.NodeNetworkUnavailable, corev1.TaintNodeNetworkUnavailable},
	} {
		owned[taintID{p.key, corev1.TaintEffectNoSchedule}] = true
		if cond := condition(node, p.condition); cond != nil && cond.Status == corev1.ConditionTrue {
			want = append(want, corev1.Taint{Key: p.key, Effect: corev1.TaintEffectNoSchedule})
		}
	}
	ready := condition(node, corev1.NodeReady)
	if ready == nil {
		return want, owned
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		owned[taintID{key, corev1.TaintEffectNoSchedule}] = true
		owned[taintID{key, corev1.TaintEffectNoExecute}] = true
	}
	key := ""
	switch ready.Status {
	case corev1.ConditionFalse:
		key = corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		key = corev1.TaintNodeUnreachable
	}
	if key != "" {
		want = append(want,
			corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule},
			corev1.Taint{Key: key, Effect: corev1.TaintEffectNoExecute})
	}
	return want, owned
}

// reconcileTaints returns current with the owned taints that are not
// wanted removed and the wanted ones that are missing added at now; a
// taint already present keeps its timeAdded, which eviction counts from.
// changed is false when current already matches.
func reconcileTaints(current, want []corev1.Taint, owned map[taintID]bool, now metav1.Time) (result []corev1.Taint, changed bool) {
	wanted := map[taintID]bool{}
	for _, t := range want {
		wanted[idOf(t)] = true
	}
	have := map[taintID]bool{}
	for _, t := range current {
		if owned[idOf(t)] && !wanted[idOf(t)] {
			changed = true
			continue
		}
		have[idOf(t)] = true
		result = append(result, t)
	}
	for _, t := range want {
		if have[idOf(t)] {
			continue
		}
		t.TimeAdded = &now
		result = append(result, t)
		changed = true
	}
	return result, changed
}

// noExecuteTaints returns node's NoExecute taints, the ones that evict.
func noExecuteTaints(node *corev1.Node) []corev1.Taint {
	var taints []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			taints = append(taints, t)
		}
	}
	return taints
}

// sameTaints reports whether a and b are equal as far as eviction cares.
func sameTaints(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect ||
			!a[i].TimeAdded.Equal(b[i].TimeAdded) {
			return false
		}
	}
	return true
}

func condition(node *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == t {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}
