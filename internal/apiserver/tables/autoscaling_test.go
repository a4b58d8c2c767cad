package tables

import (
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func quantity(s string) *resource.Quantity { return ptr(resource.MustParse(s)) }

func TestHorizontalPodAutoscalerCells(t *testing.T) {
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](50)},
	}}
	memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: quantity("512Mi")},
	}}
	pods := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Target: autoscalingv2.MetricTarget{AverageValue: quantity("1k")},
	}}
	object := autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		Target: autoscalingv2.MetricTarget{Value: quantity("10")},
	}}
	external := autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Target: autoscalingv2.MetricTarget{AverageValue: quantity("30")},
	}}
	container := autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType},
	}}
	runCellCases(t, []cellCase{
		{"cpu with current", &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: om("web"),
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: ptr[int32](1), MaxReplicas: 10, Metrics: []autoscalingv2.MetricSpec{cpu}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentMetrics: []autoscalingv2.MetricStatus{{
				Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr[int32](23)}},
			}}},
		}, []any{"web", "Deployment/web", "cpu: 23%/50%", "1", int64(10), int64(2), "5m"}},
		{"two metrics, unknown current", &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: om("two"),
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 5, Metrics: []autoscalingv2.MetricSpec{memory, cpu}},
		}, []any{"two", "Deployment/web", "memory: <unknown>/512Mi, cpu: <unknown>/50%", "<unset>", int64(5), int64(0), "5m"}},
		{"every type", &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: om("all"),
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{pods, object, external, container, {Type: "Bogus"}}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: quantity("900")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{Current: autoscalingv2.MetricValueStatus{Value: quantity("12")}}},
			}},
		}, []any{"all", "Deployment/web", "900/1k, 12/10 + 3 more...", "<unset>", int64(3), int64(0), "5m"}},
		{"none", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: om("none"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 1}},
			[]any{"none", "Deployment/web", "<none>", "<unset>", int64(1), int64(0), "5m"}},
	})
	// The other metric types, two at a time so that they are shown.
	runCellCases(t, []cellCase{
		{"external and container", &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: om("ext"),
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 2, Metrics: []autoscalingv2.MetricSpec{external, container}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: quantity("25")}}},
			}},
		}, []any{"ext", "Deployment/web", "25/30 (avg), cpu: <unknown>/<auto>", "<unset>", int64(2), int64(0), "5m"}},
	})
}

func TestHorizontalPodAutoscalerV1Cells(t *testing.T) {
	ref := autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}
	runCellCases(t, []cellCase{
		{"target and current", &autoscalingv1.HorizontalPodAutoscaler{
			ObjectMeta: om("web"),
			Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: ptr[int32](2), MaxReplicas: 4, TargetCPUUtilizationPercentage: ptr[int32](60)},
			Status:     autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, CurrentCPUUtilizationPercentage: ptr[int32](71)},
		}, []any{"web", "Deployment/web", "cpu: 71%/60%", "2", int64(4), int64(3), "5m"}},
		{"default target", &autoscalingv1.HorizontalPodAutoscaler{
			ObjectMeta: om("d"),
			Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 4},
		}, []any{"d", "Deployment/web", "cpu: <unknown>/80%", "<unset>", int64(4), int64(0), "5m"}},
	})
}
