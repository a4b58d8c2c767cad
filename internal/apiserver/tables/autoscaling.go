package tables

import (
	"fmt"
	"strconv"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// autoscalingPrinters are the printers of horizontal pod autoscalers, in
// both versions; v1 objects are printed through their v2 form.
func autoscalingPrinters() []*printer {
	return []*printer{
		typed(autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), hpaColumns, hpaCells),
		typed(autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), hpaColumns, hpaV1Cells),
	}
}

var hpaSpecDoc = autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()

var hpaColumns = columns(
	nameColumn(),
	strCol("Reference", hpaSpecDoc["scaleTargetRef"]),
	strCol("Targets", hpaSpecDoc["metrics"]),
	strCol("MinPods", hpaSpecDoc["minReplicas"]),
	intCol("MaxPods", hpaSpecDoc["maxReplicas"]),
	intCol("Replicas", autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]),
	ageColumn(),
)

func hpaCells(hpa *autoscalingv2.HorizontalPodAutoscaler, now time.Time) []any {
	minPods := "<unset>"
	if hpa.Spec.MinReplicas != nil {
		minPods = strconv.Itoa(int(*hpa.Spec.MinReplicas))
	}
	return []any{
		hpa.Name,
		hpa.Spec.ScaleTargetRef.Kind + "/" + hpa.Spec.ScaleTargetRef.Name,
		hpaTargets(hpa.Spec.Metrics, hpa.Status.CurrentMetrics),
		minPods,
		int64(hpa.Spec.MaxReplicas),
		int64(hpa.Status.CurrentReplicas),
		ageSince(hpa.CreationTimestamp, now),
	}
}

// defaultCPUUtilization is the CPU target of an autoscaler that names no
// metric, as the API defaults it.
const defaultCPUUtilization = 80

func hpaV1Cells(hpa *autoscalingv1.HorizontalPodAutoscaler, now time.Time) []any {
	target := int32(defaultCPUUtilization)
	if hpa.Spec.TargetCPUUtilizationPercentage != nil {
		target = *hpa.Spec.TargetCPUUtilizationPercentage
	}
	v2 := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: hpa.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(hpa.Spec.ScaleTargetRef),
			MinReplicas:    hpa.Spec.MinReplicas,
			MaxReplicas:    hpa.Spec.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: hpa.Status.CurrentReplicas},
	}
	if cur := hpa.Status.CurrentCPUUtilizationPercentage; cur != nil {
		v2.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: cur},
			},
		}}
	}
	return hpaCells(v2, now)
}

// hpaTargets renders each metric as current/target ("cpu: 40%/80%",
// "1k/500 (avg)"), the current value taken from the status entry at the
// same index; "<unknown>" until there is one. It shows two metrics and
// counts the rest.
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	list := make([]string, 0, len(specs))
	for i, spec := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, hpaTarget(spec, st))
	}
	return moreList(list, 2, ", ")
}

func hpaTarget(spec autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	switch {
	case spec.Type == autoscalingv2.ExternalMetricSourceType && spec.External != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.External != nil {
			cur = &st.External.Current
		}
		return valueTarget(spec.External.Target, cur)
	case spec.Type == autoscalingv2.PodsMetricSourceType && spec.Pods != nil:
		current := "<unknown>"
		if st != nil && st.Pods != nil && st.Pods.Current.AverageValue != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return current + "/" + quantityString(spec.Pods.Target.AverageValue)
	case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Object != nil {
			cur = &st.Object.Current
		}
		return valueTarget(spec.Object.Target, cur)
	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(spec.Resource.Name) + ": " + resourceTarget(spec.Resource.Target, cur)
	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(spec.ContainerResource.Name) + ": " + resourceTarget(spec.ContainerResource.Target, cur)
	default:
		return "<unknown type>"
	}
}

// valueTarget renders an object or external metric: an average value
// target with " (avg)", else a plain value target.
func valueTarget(target autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if target.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + target.AverageValue.String() + " (avg)"
	}
	if cur != nil && cur.Value != nil {
		current = cur.Value.String()
	}
	return current + "/" + quantityString(target.Value)
}

// resourceTarget renders a resource metric: an average value, or a
// utilization in percent ("<auto>" if the target names none).
func resourceTarget(target autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if target.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + target.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	want := "<auto>"
	if target.AverageUtilization != nil {
		want = fmt.Sprintf("%d%%", *target.AverageUtilization)
	}
	return current + "/" + want
}
