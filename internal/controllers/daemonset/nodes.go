package daemonset

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// daemonTolerations are the tolerations every daemon pod gets: a daemon
// keeps running on a node that is not ready, unreachable, under resource
// pressure or cordoned, since it is often what the node needs to recover.
// Network-unavailable is tolerated only by host-network pods, which do not
// need the pod network.
func daemonTolerations(hostNetwork bool) []corev1.Toleration {
	out := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
	if hostNetwork {
		out = append(out, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	return out
}

// addTolerations returns tolerations plus those of extra it lacks.
func addTolerations(tolerations, extra []corev1.Toleration) []corev1.Toleration {
	out := append([]corev1.Toleration(nil), tolerations...)
	for _, t := range extra {
		found := false
		for i := range out {
			found = found || out[i].MatchToleration(&t)
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// placement is where a daemon pod belongs relative to one node.
type placement struct {
	// shouldRun: the node matches the template and tolerates every
	// NoSchedule and NoExecute taint, so it gets a pod.
	shouldRun bool
	// shouldContinue: a pod already there may stay (only NoExecute taints
	// the pod does not tolerate evict it).
	shouldContinue bool
}

// placeOn decides whether pod (a daemon pod as the controller would make
// it, tolerations included) belongs on node.
func placeOn(pod *corev1.Pod, node *corev1.Node) placement {
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return placement{}
	}
	logger := klog.Background()
	_, untoleratedNoExecute := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, pod.Spec.Tolerations,
		func(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoExecute }, false)
	if untoleratedNoExecute {
		return placement{}
	}
	_, untoleratedNoSchedule := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, pod.Spec.Tolerations,
		func(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoSchedule }, false)
	return placement{shouldRun: !untoleratedNoSchedule, shouldContinue: true}
}

// pinToNode makes the pod's required node affinity select exactly node by
// name (matchFields metadata.name), which the scheduler then binds it to.
// The controller has already checked the template's own node affinity
// against the node, so replacing the terms loses nothing.
func pinToNode(pod *corev1.Pod, node string) {
	term := corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{
		Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
	}}}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	if pod.Spec.Affinity.NodeAffinity == nil {
		pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{term},
	}
}

// nodeOf is the node a daemon pod is on or pinned to, "" if neither.
func nodeOf(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}
