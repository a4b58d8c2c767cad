package defaultpreemption

import (
	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// eligible reports whether pod may preempt, and why not. A pod with
// preemptionPolicy Never never does. A pod already nominated to a node
// where lower-priority pods are still terminating because of an earlier
// preemption waits for them instead of evicting more elsewhere, unless the
// filters now find that node unresolvable.
func (pl *DefaultPreemption) eligible(pod *corev1.Pod, filtered *framework.NodeToStatus) (bool, string) {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return false, ReasonPreemptionPolicyNever
	}
	nominated := pod.Status.NominatedNodeName
	if nominated == "" {
		return true, ""
	}
	if filtered.Get(nominated).Code() == framework.UnschedulableAndUnresolvable {
		return true, ""
	}
	ni, err := pl.h.SnapshotSharedLister().NodeInfos().Get(nominated)
	if err != nil || ni == nil {
		return true, ""
	}
	prio := corev1helpers.PodPriority(pod)
	for _, pi := range ni.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio && terminatingByPreemption(pi.Pod) {
			return false, ReasonTerminatingOnNominated
		}
	}
	return true, ""
}

// terminatingByPreemption reports a pod being deleted because the
// scheduler preempted it.
func terminatingByPreemption(p *corev1.Pod) bool {
	if p.DeletionTimestamp == nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == corev1.PodReasonPreemptionByScheduler {
			return true
		}
	}
	return false
}
