package convert

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Events serves events.k8s.io/v1 Events from core/v1 Event storage: the
// two APIs show the same objects under different field names.
var Events = Funcs{
	ToStored:      func(obj runtime.Object) (runtime.Object, error) { return eventToCore(obj) },
	FromStored:    func(obj runtime.Object) (runtime.Object, error) { return eventFromCore(obj) },
	NewStored:     func() runtime.Object { return &corev1.Event{} },
	NewStoredList: func() runtime.Object { return &corev1.EventList{} },
}

func eventToCore(obj runtime.Object) (*corev1.Event, error) {
	e, ok := obj.(*eventsv1.Event)
	if !ok {
		return nil, fmt.Errorf("expected an events.k8s.io/v1 Event, got %T", obj)
	}
	out := &corev1.Event{
		ObjectMeta:          *e.ObjectMeta.DeepCopy(),
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		Related:             e.Related.DeepCopy(),
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	// Readers of the core API select events by source: the reporter is it.
	if out.Source.Component == "" {
		out.Source.Component = e.ReportingController
	}
	if out.Source.Host == "" {
		out.Source.Host = e.ReportingInstance
	}
	return out, nil
}

func eventFromCore(obj runtime.Object) (*eventsv1.Event, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return nil, fmt.Errorf("expected a core/v1 Event, got %T", obj)
	}
	out := &eventsv1.Event{
		ObjectMeta:               *e.ObjectMeta.DeepCopy(),
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Related:                  e.Related.DeepCopy(),
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	if e.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out, nil
}
