package tables

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
)

// coreEventPrinters are the printers of events, in both the core group
// and events.k8s.io; the two show the same columns.
func coreEventPrinters() []*printer {
	return []*printer{
		typed(corev1.SchemeGroupVersion.WithKind("Event"), eventColumns, eventCells),
		typed(eventsv1.SchemeGroupVersion.WithKind("Event"), eventColumns, eventsV1Cells),
	}
}

var eventDoc = corev1.Event{}.SwaggerDoc()

var eventColumns = columns(
	strCol("Last Seen", eventDoc["lastTimestamp"]),
	strCol("Type", eventDoc["type"]),
	strCol("Reason", eventDoc["reason"]),
	strCol("Object", eventDoc["involvedObject"]),
	wide(strCol("Subobject", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
	wide(strCol("Source", eventDoc["source"])),
	strCol("Message", eventDoc["message"]),
	wide(strCol("First Seen", eventDoc["firstTimestamp"])),
	wide(intCol("Count", eventDoc["count"])),
	wide(column{Name: "Name", Type: typeString, Format: "name", Description: objectMetaDoc["name"]}),
)

// eventCells fills the event columns. Events written through the newer API
// have an eventTime and a series instead of first and last timestamps and
// a count; a single such event counts once.
func eventCells(e *corev1.Event, now time.Time) []any {
	first := ageSince(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAgeSince(e.EventTime, now)
	}
	last := ageSince(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	switch {
	case e.Series != nil:
		last, count = microAgeSince(e.Series.LastObservedTime, now), e.Series.Count
	case count == 0:
		count = 1
	}
	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	source := firstNonEmpty(e.Source.Component, e.ReportingController)
	if instance := firstNonEmpty(e.Source.Host, e.ReportingInstance); instance != "" {
		source += ", " + instance
	}
	return []any{
		last, e.Type, e.Reason, object, e.InvolvedObject.FieldPath, source,
		strings.TrimSpace(e.Message), first, int64(count), e.Name,
	}
}

// eventsV1Cells prints an events.k8s.io event through its core form.
func eventsV1Cells(e *eventsv1.Event, now time.Time) []any {
	core := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		Source:              e.DeprecatedSource,
		EventTime:           e.EventTime,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		core.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return eventCells(core, now)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
