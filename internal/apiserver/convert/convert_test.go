package convert

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func TestRoundTrips(t *testing.T) {
	hpa := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "n"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MinReplicas:    ptr(int32(2)), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr(int32(60)),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 4, CurrentCPUUtilizationPercentage: ptr(int32(70))},
	}
	event := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "n"},
		Regarding:  corev1.ObjectReference{Kind: "Pod", Name: "p"}, Note: "hello", Reason: "R", Type: "Normal",
		Series:              &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(metav1.Now().Time)},
		ReportingController: "c", ReportingInstance: "i", Action: "A", DeprecatedCount: 3,
	}
	stored, err := HorizontalPodAutoscalers.ToStored(hpa)
	if err != nil {
		t.Fatal(err)
	}
	back, err := HorizontalPodAutoscalers.FromStored(stored)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hpa, back); diff != "" {
		t.Errorf("HPA round trip (-want +got):\n%s", diff)
	}
	storedEvent, err := Events.ToStored(event)
	if err != nil {
		t.Fatal(err)
	}
	if core := storedEvent.(*corev1.Event); core.Message != "hello" || core.InvolvedObject.Name != "p" || core.Count != 3 {
		t.Errorf("core event %+v", core)
	}
	backEvent, err := Events.FromStored(storedEvent)
	if err != nil {
		t.Fatal(err)
	}
	// The reporter shows as the legacy source too.
	want := event.DeepCopy()
	want.DeprecatedSource = corev1.EventSource{Component: "c", Host: "i"}
	if diff := cmp.Diff(want, backEvent); diff != "" {
		t.Errorf("event round trip (-want +got):\n%s", diff)
	}
}
