package batch

import (
	"context"
	"maps"
	"math"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// Job defaults from the batch/v1 API reference.
const defaultBackoffLimit = int32(6)

// Labels by which a job's pods are found: the prefixed ones, and the
// unprefixed ones older clients still look for.
const (
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"
)

// jobStrategy defaults and validates jobs, and gives a job without a
// manual selector one that matches only its own pods.
type jobStrategy struct{ registry.DefaultStrategy }

// PrepareForCreate generates the selector and template labels of a job
// without a manual selector, from its uid.
//
// The uid must be set before this runs (the store assigns it); if it is
// not, one is generated here.
func (s jobStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	s.DefaultStrategy.PrepareForCreate(ctx, obj)
	job, ok := obj.(*batchv1.Job)
	if !ok || ptr.Deref(job.Spec.ManualSelector, false) {
		return
	}
	if job.UID == "" {
		job.UID = types.UID(uuid.NewUUID())
	}
	generateSelector(job)
}

func generateSelector(job *batchv1.Job) {
	uid := string(job.UID)
	if job.Spec.Template.Labels == nil {
		job.Spec.Template.Labels = map[string]string{}
	}
	l := job.Spec.Template.Labels
	l[batchv1.ControllerUidLabel] = uid
	l[batchv1.JobNameLabel] = job.Name
	l[legacyControllerUIDLabel] = uid
	l[legacyJobNameLabel] = job.Name
	job.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: uid}}
}

// Default implements registry.Strategy.
func (jobStrategy) Default(obj runtime.Object) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	spec := &job.Spec
	switch {
	case spec.Completions == nil && spec.Parallelism == nil:
		spec.Completions, spec.Parallelism = ptr.To[int32](1), ptr.To[int32](1)
	case spec.Parallelism == nil:
		spec.Parallelism = ptr.To[int32](1)
	}
	if spec.BackoffLimit == nil {
		spec.BackoffLimit = ptr.To(defaultBackoffLimit)
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To[int32](math.MaxInt32)
		}
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.PodReplacementPolicy == nil {
		spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		}
	}
	if pfp := spec.PodFailurePolicy; pfp != nil {
		for i := range pfp.Rules {
			for j := range pfp.Rules[i].OnPodConditions {
				if c := &pfp.Rules[i].OnPodConditions[j]; c.Status == "" {
					c.Status = corev1.ConditionTrue
				}
			}
		}
	}
	if len(job.Labels) == 0 && len(spec.Template.Labels) > 0 {
		job.Labels = maps.Clone(spec.Template.Labels)
	}
	core.DefaultPodTemplateSpec(&spec.Template)
}

// Validate implements registry.Strategy.
func (jobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	errs := core.ValidateWorkloadSelector(job.Spec.Selector, &job.Spec.Template, p)
	return append(errs, validateJobSpec(&job.Spec, p)...)
}

// ValidateUpdate implements registry.Strategy.
func (s jobStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	job, ok := obj.(*batchv1.Job)
	oldJob, ok2 := old.(*batchv1.Job)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	return append(errs, validateJobUpdate(job, oldJob)...)
}

// GetAttrs implements registry.Strategy: jobs can be selected by
// status.successful.
func (jobStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := fields.Set{
		"metadata.name":      job.Name,
		"metadata.namespace": job.Namespace,
		"status.successful":  strconv.Itoa(int(job.Status.Succeeded)),
	}
	return labels.Set(job.Labels), fs, nil
}
