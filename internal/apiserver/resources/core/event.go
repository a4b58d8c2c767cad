package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// eventStrategy selects events by what they are about and who reported
// them.
type eventStrategy struct{ registry.DefaultStrategy }

// Validate implements registry.Strategy: an event about a namespaced
// object lives in that object's namespace.
func (eventStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ev, ok := obj.(*corev1.Event)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	if ns := ev.InvolvedObject.Namespace; ns != "" && ns != ev.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), ns, "does not match event.namespace"))
	}
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s eventStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

// GetAttrs implements registry.Strategy.
func (eventStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ev, ok := obj.(*corev1.Event)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&ev.ObjectMeta, true)
	o := ev.InvolvedObject
	fs["involvedObject.kind"] = o.Kind
	fs["involvedObject.namespace"] = o.Namespace
	fs["involvedObject.name"] = o.Name
	fs["involvedObject.uid"] = string(o.UID)
	fs["involvedObject.apiVersion"] = o.APIVersion
	fs["involvedObject.resourceVersion"] = o.ResourceVersion
	fs["involvedObject.fieldPath"] = o.FieldPath
	fs["reason"] = ev.Reason
	fs["reportingComponent"] = ev.ReportingController
	fs["source"] = ev.Source.Component
	fs["type"] = ev.Type
	return labels.Set(ev.Labels), fs, nil
}
