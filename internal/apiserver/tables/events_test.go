package tables

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"kubelet event with count", &corev1.Event{
			ObjectMeta:     om("web.17a1"),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
			Reason:         "BackOff", Message: "Back-off restarting failed container\n", Type: corev1.EventTypeWarning,
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
			FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 12,
		}, []any{"30s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-1", "Back-off restarting failed container", "10m", int64(12), "web.17a1"}},
		{"new-style singleton", &corev1.Event{
			ObjectMeta:     om("node.1"),
			InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"},
			Reason:         "Starting", Type: corev1.EventTypeNormal,
			EventTime:           metav1.NewMicroTime(now.Add(-2 * time.Minute)),
			ReportingController: "kube-proxy", ReportingInstance: "kube-proxy-node-1",
		}, []any{"2m", "Normal", "Starting", "node/node-1", "", "kube-proxy, kube-proxy-node-1", "", "2m", int64(1), "node.1"}},
		{"series", &corev1.Event{
			ObjectMeta:     om("s.1"),
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment"},
			EventTime:      metav1.NewMicroTime(now.Add(-time.Hour)),
			Series:         &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(now.Add(-5 * time.Second))},
		}, []any{"5s", "", "", "deployment", "", "", "", "60m", int64(7), "s.1"}},
		{"no times", &corev1.Event{ObjectMeta: om("x")},
			[]any{"<unknown>", "", "", "", "", "", "", "<unknown>", int64(1), "x"}},
	})
}

func TestEventsV1Cells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"series", &eventsv1.Event{
			ObjectMeta: om("web.1"),
			EventTime:  metav1.NewMicroTime(now.Add(-time.Hour)),
			Series:     &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(now.Add(-time.Minute))},
			Regarding:  corev1.ObjectReference{Kind: "Pod", Name: "web"},
			Reason:     "Pulled", Note: "Container image pulled", Type: corev1.EventTypeNormal,
			ReportingController: "kubelet", ReportingInstance: "node-1",
		}, []any{"60s", "Normal", "Pulled", "pod/web", "", "kubelet, node-1", "Container image pulled", "60m", int64(3), "web.1"}},
		{"deprecated fields", &eventsv1.Event{
			ObjectMeta:               om("old.1"),
			Regarding:                corev1.ObjectReference{Kind: "ReplicaSet", Name: "web-1"},
			Reason:                   "SuccessfulCreate",
			DeprecatedSource:         corev1.EventSource{Component: "replicaset-controller"},
			DeprecatedFirstTimestamp: ago(3 * time.Hour), DeprecatedLastTimestamp: ago(3 * time.Hour), DeprecatedCount: 2,
		}, []any{"3h", "", "SuccessfulCreate", "replicaset/web-1", "", "replicaset-controller", "", "3h", int64(2), "old.1"}},
	})
}
