package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// shape is one scheduler_perf-like workload: how many simulated nodes, how
// many pods, and what each pod looks like.
type shape struct {
	name        string
	description string
	nodes, pods int
	pod         func(i int) *corev1.Pod
}

// shapes returns the workloads, smaller with quick.
func shapes(quick bool) []shape {
	pick := func(small, full int) int {
		if quick {
			return small
		}
		return full
	}
	return []shape{
		{
			name:        "SchedulingBasic",
			description: "pods requesting 100m cpu and 500Mi memory",
			nodes:       pick(500, 5000), pods: pick(1000, 10000),
			pod: basicPod,
		},
		{
			name:        "AntiAffinityAndSpread",
			description: "groups of 5 pods with required hostname anti-affinity, spread over zones (maxSkew 1)",
			nodes:       pick(200, 1000), pods: pick(1000, 5000),
			pod: spreadPod,
		},
	}
}

// basicPod is scheduler_perf's default pod: one container requesting and
// limited to 100m cpu and 500Mi memory.
func basicPod(i int) *corev1.Pod {
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "pause", Image: "registry.k8s.io/pause:3.10.2",
			Ports:     []corev1.ContainerPort{{ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{Requests: rl, Limits: rl},
		}}},
	}
}

// spreadPod adds to basicPod a group label shared by 5 consecutive pods,
// which must not share a node, and a zone spread of the pod's app (one of
// 10) with maxSkew 1.
func spreadPod(i int) *corev1.Pod {
	pod := basicPod(i)
	group, app := fmt.Sprintf("g-%d", i/5), fmt.Sprintf("app-%d", i%10)
	pod.Labels = map[string]string{"app": app, "group": group}
	pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"group": group}},
			TopologyKey:   corev1.LabelHostname,
		}},
	}}
	pod.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
	}}
	return pod
}
