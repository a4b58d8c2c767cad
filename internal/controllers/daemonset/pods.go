package daemonset

import (
	"maps"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// templateGenerationLabel records the daemon set generation a pod was
// made at, as kube-controller-manager labels daemon pods.
const templateGenerationLabel = "pod-template-generation"

// hashOf is the revision hash a daemon pod was made from.
func hashOf(pod *corev1.Pod) string { return pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] }

// podTemplate is the pod the daemon set would run anywhere: its template
// with the revision labels and the daemon tolerations, not yet pinned.
func podTemplate(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, hash string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *template.ObjectMeta.DeepCopy(), Spec: *template.Spec.DeepCopy()}
	pod.Namespace = ds.Namespace
	pod.GenerateName = ds.Name + "-"
	pod.Labels = maps.Clone(pod.Labels)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	pod.Labels[templateGenerationLabel] = strconv.FormatInt(ds.Generation, 10)
	pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)}
	pod.Spec.Tolerations = addTolerations(pod.Spec.Tolerations, daemonTolerations(pod.Spec.HostNetwork))
	return pod
}

// newPod is the daemon pod for node.
func newPod(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, hash, node string) *corev1.Pod {
	pod := podTemplate(ds, template, hash)
	pinToNode(pod, node)
	return pod
}

// availableIn returns whether the pod is running, ready and has been for
// minReady at now; otherwise how long until then if it stays ready.
func availableIn(pod *corev1.Pod, minReady time.Duration, now time.Time) (bool, time.Duration) {
	if pod == nil || pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
		return false, 0
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodReady {
			continue
		}
		if c.Status != corev1.ConditionTrue {
			return false, 0
		}
		left := c.LastTransitionTime.Add(minReady).Sub(now)
		if minReady == 0 || left <= 0 {
			return true, 0
		}
		return false, left
	}
	return false, 0
}

func ready(pod *corev1.Pod) bool {
	ok, _ := availableIn(pod, 0, time.Time{})
	return ok
}

// limits resolves maxSurge and maxUnavailable against the number of nodes
// that should run a pod (rounding up); when both come out 0 one pod at a
// time may be unavailable, so a rollout always progresses.
func limits(ru *appsv1.RollingUpdateDaemonSet, desired int) (surge, unavailable int) {
	if ru == nil {
		return 0, 1
	}
	if ru.MaxSurge != nil {
		surge, _ = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true)
	}
	if ru.MaxUnavailable != nil {
		unavailable, _ = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}
