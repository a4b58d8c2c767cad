package core

import (
	corev1 "k8s.io/api/core/v1"
)

// qosResources are the resources a pod's QoS class depends on.
var qosResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// QOSClass returns a pod's quality-of-service class: Guaranteed when every
// container (or the pod, with pod-level resources) limits CPU and memory
// and requests exactly that, BestEffort when nothing requests or limits
// either, Burstable otherwise. Requests defaulted from limits count.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if r := pod.Spec.Resources; r != nil && setsAny(r) {
		return qosOf([]corev1.ResourceRequirements{*r})
	}
	all := make([]corev1.ResourceRequirements, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Resources)
	}
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Resources)
	}
	return qosOf(all)
}

func qosOf(all []corev1.ResourceRequirements) corev1.PodQOSClass {
	some, guaranteed := false, true
	for _, r := range all {
		if setsAny(&r) {
			some = true
		}
		for _, name := range qosResources {
			limit, hasLimit := r.Limits[name]
			request, hasRequest := r.Requests[name]
			if !hasRequest {
				request, hasRequest = limit, hasLimit
			}
			if !hasLimit || !hasRequest || limit.Cmp(request) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !some:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	default:
		return corev1.PodQOSBurstable
	}
}

// setsAny reports whether r requests or limits CPU or memory (a zero
// quantity counts as unset).
func setsAny(r *corev1.ResourceRequirements) bool {
	for _, name := range qosResources {
		if q, ok := r.Requests[name]; ok && !q.IsZero() {
			return true
		}
		if q, ok := r.Limits[name]; ok && !q.IsZero() {
			return true
		}
	}
	return false
}
