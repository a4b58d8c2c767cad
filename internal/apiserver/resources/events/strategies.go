// Package events holds the strategy of events.k8s.io Events: the field
// selectors of that API's field names.
package events

import (
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

type eventStrategy struct{ registry.DefaultStrategy }

// GetAttrs implements registry.Strategy.
func (s eventStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ls, fs, err := s.DefaultStrategy.GetAttrs(obj)
	if err != nil {
		return nil, nil, err
	}
	e, ok := obj.(*eventsv1.Event)
	if !ok {
		return ls, fs, nil
	}
	for k, v := range map[string]string{
		"reason":                    e.Reason,
		"type":                      e.Type,
		"reportingController":       e.ReportingController,
		"regarding.kind":            e.Regarding.Kind,
		"regarding.namespace":       e.Regarding.Namespace,
		"regarding.name":            e.Regarding.Name,
		"regarding.uid":             string(e.Regarding.UID),
		"regarding.apiVersion":      e.Regarding.APIVersion,
		"regarding.resourceVersion": e.Regarding.ResourceVersion,
		"regarding.fieldPath":       e.Regarding.FieldPath,
	} {
		fs[k] = v
	}
	return ls, fs, nil
}

// Strategies returns the strategies of this group's resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	return map[schema.GroupVersionResource]registry.Strategy{
		eventsv1.SchemeGroupVersion.WithResource("events"): eventStrategy{},
	}
}
