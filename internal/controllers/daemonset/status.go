package daemonset

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// computeStatus counts nodes, not pods: each node that should run a pod
// counts once however many it has.
func computeStatus(ds *appsv1.DaemonSet, v view, collisions int32) appsv1.DaemonSetStatus {
	status := appsv1.DaemonSetStatus{
		ObservedGeneration: ds.Generation,
		CollisionCount:     &collisions,
		Conditions:         ds.Status.Conditions,
	}
	for _, n := range v.nodes {
		var live []*corev1.Pod
		for _, pod := range n.pods {
			if pod.Status.Phase != corev1.PodFailed {
				live = append(live, pod)
			}
		}
		if !n.place.shouldRun {
			if len(live) > 0 {
				status.NumberMisscheduled++
			}
			continue
		}
		status.DesiredNumberScheduled++
		if len(live) == 0 {
			continue
		}
		status.CurrentNumberScheduled++
		var isReady, available, updated bool
		for _, pod := range live {
			isReady = isReady || ready(pod)
			ok, _ := availableIn(pod, v.minReady, v.now)
			available = available || ok
			updated = updated || hashOf(pod) == v.hash
		}
		if isReady {
			status.NumberReady++
		}
		if available {
			status.NumberAvailable++
		}
		if updated {
			status.UpdatedNumberScheduled++
		}
	}
	status.NumberUnavailable = status.DesiredNumberScheduled - status.NumberAvailable
	return status
}
