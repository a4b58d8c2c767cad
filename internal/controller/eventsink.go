package controller

import (
	"context"
	"errors"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
)

// NewEventSink returns the sink an events.k8s.io broadcaster records
// through. A scheduler records an Event for every pod it places; the typed
// client's create converts empty CreateOptions to query parameters by
// reflection and decodes the stored Event back, which the broadcaster
// drops, a tenth of what placing a pod costs the scheduler. This sink
// posts the Event and keeps the one it sent. Fake clientsets, without a
// REST client, get the typed client's sink.
func NewEventSink(client kubernetes.Interface) events.EventSink {
	typed := &events.EventSinkImpl{Interface: client.EventsV1()}
	rc := RESTClientOf(client.EventsV1().RESTClient())
	if rc == nil {
		return typed
	}
	return &eventSink{EventSinkImpl: typed, rest: rc}
}

type eventSink struct {
	*events.EventSinkImpl // Update and Patch: a series, now and then
	rest                  rest.Interface
}

// Create implements events.EventSink.
func (s *eventSink) Create(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	if e.Namespace == "" {
		return nil, errors.New("can't create an event with empty namespace")
	}
	if err := s.rest.Post().Namespace(e.Namespace).Resource("events").Body(e).Do(ctx).Error(); err != nil {
		return nil, err
	}
	return e, nil
}
