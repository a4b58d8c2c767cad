package statefulset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// computeStatus derives the set's status from its pods at now. current and
// update are the revision names; once every pod of a RollingUpdate runs
// the update revision and is ready, the update revision becomes current.
func computeStatus(set *appsv1.StatefulSet, pods []*corev1.Pod, current, update string, collisions int32, now time.Time) appsv1.StatefulSetStatus {
	status := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current,
		UpdateRevision:     update,
		CollisionCount:     &collisions,
		Conditions:         set.Status.Conditions,
	}
	minReady := time.Duration(set.Spec.MinReadySeconds) * time.Second
	for _, pod := range pods {
		if terminating(pod) {
			continue
		}
		status.Replicas++
		if _, ready := readySince(pod); ready {
			status.ReadyReplicas++
		}
		if ok, _ := availableIn(pod, minReady, now); ok {
			status.AvailableReplicas++
		}
		rev := revisionOf(pod)
		if rev == current {
			status.CurrentReplicas++
		}
		if rev == update {
			status.UpdatedReplicas++
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		status.UpdatedReplicas == status.Replicas && status.ReadyReplicas == status.Replicas &&
		int(status.Replicas) == replicas(set) {
		status.CurrentRevision = update
		status.CurrentReplicas = status.UpdatedReplicas
	}
	return status
}
