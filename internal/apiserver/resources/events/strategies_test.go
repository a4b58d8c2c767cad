package events

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
)

func TestFieldSelectors(t *testing.T) {
	s := Strategies()[eventsv1.SchemeGroupVersion.WithResource("events")]
	_, fs, err := s.GetAttrs(&eventsv1.Event{ReportingController: "c", Regarding: corev1.ObjectReference{Kind: "Pod", Name: "p"}})
	if err != nil || fs["reportingController"] != "c" || fs["regarding.kind"] != "Pod" || fs["regarding.name"] != "p" {
		t.Fatalf("fields %v, %v", fs, err)
	}
}
