package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// res is requests and limits written as "cpu=100m,memory=64Mi"-style
// pairs, for the QoS table.
func res(requests, limits map[corev1.ResourceName]string) corev1.ResourceRequirements {
	parse := func(m map[corev1.ResourceName]string) corev1.ResourceList {
		if m == nil {
			return nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			l[k] = resource.MustParse(v)
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: parse(requests), Limits: parse(limits)}
}

type rl = map[corev1.ResourceName]string

// The expectations follow Kubernetes' QoS rules (k8s.io/kubernetes
// pkg/apis/core/helper/qos): only cpu and memory count; Guaranteed needs
// cpu and memory limits on every container, init containers included,
// with requests equal to limits; no non-zero request or limit anywhere is
// BestEffort. Pods come from the API server, which defaults requests to
// limits, so the rows do too.
func TestQOSClass(t *testing.T) {
	g := res(rl{"cpu": "500m", "memory": "64Mi"}, rl{"cpu": "500m", "memory": "64Mi"})
	tests := []struct {
		name string
		init []corev1.ResourceRequirements
		ctrs []corev1.ResourceRequirements
		set  corev1.PodQOSClass
		want corev1.PodQOSClass
	}{
		{name: "nothing", ctrs: []corev1.ResourceRequirements{{}}, want: corev1.PodQOSBestEffort},
		{name: "zero requests", ctrs: []corev1.ResourceRequirements{res(rl{"cpu": "0", "memory": "0"}, nil)},
			want: corev1.PodQOSBestEffort},
		{name: "only other resources", ctrs: []corev1.ResourceRequirements{
			res(rl{"ephemeral-storage": "1Gi"}, rl{"ephemeral-storage": "1Gi"})}, want: corev1.PodQOSBestEffort},
		{name: "cpu request only", ctrs: []corev1.ResourceRequirements{res(rl{"cpu": "100m"}, nil)},
			want: corev1.PodQOSBurstable},
		{name: "requests equal limits", ctrs: []corev1.ResourceRequirements{g, g}, want: corev1.PodQOSGuaranteed},
		{name: "same quantity spelled differently", ctrs: []corev1.ResourceRequirements{
			res(rl{"cpu": "1", "memory": "1Gi"}, rl{"cpu": "1000m", "memory": "1024Mi"})}, want: corev1.PodQOSGuaranteed},
		{name: "different guaranteed containers", ctrs: []corev1.ResourceRequirements{g,
			res(rl{"cpu": "2", "memory": "1Gi"}, rl{"cpu": "2", "memory": "1Gi"})}, want: corev1.PodQOSGuaranteed},
		{name: "cpu limit only", ctrs: []corev1.ResourceRequirements{res(rl{"cpu": "1"}, rl{"cpu": "1"})},
			want: corev1.PodQOSBurstable},
		{name: "request below limit", ctrs: []corev1.ResourceRequirements{
			res(rl{"cpu": "250m", "memory": "64Mi"}, rl{"cpu": "500m", "memory": "64Mi"})}, want: corev1.PodQOSBurstable},
		{name: "one container without resources", ctrs: []corev1.ResourceRequirements{g, {}}, want: corev1.PodQOSBurstable},
		{name: "init container without resources", init: []corev1.ResourceRequirements{{}},
			ctrs: []corev1.ResourceRequirements{g}, want: corev1.PodQOSBurstable},
		{name: "init container guaranteed too", init: []corev1.ResourceRequirements{g},
			ctrs: []corev1.ResourceRequirements{g}, want: corev1.PodQOSGuaranteed},
		{name: "status wins: it is immutable once set", ctrs: []corev1.ResourceRequirements{{}},
			set: corev1.PodQOSGuaranteed, want: corev1.PodQOSGuaranteed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil)
			for i, r := range tt.init {
				c := initC("i" + string(rune('0'+i)))
				c.Resources = r
				pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
			}
			for i, r := range tt.ctrs {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "c" + string(rune('0'+i)), Resources: r})
			}
			pod.Status.QOSClass = tt.set
			if got := qosClass(pod); got != tt.want {
				t.Errorf("qosClass = %s, want %s", got, tt.want)
			}
		})
	}
}
