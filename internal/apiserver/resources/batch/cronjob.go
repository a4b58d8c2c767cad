package batch

import (
	"context"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/core"
	"github.com/tugcluster/tug/internal/cron"
)

// CronJob defaults from the batch/v1 API reference.
const (
	defaultSuccessfulJobsHistory = int32(3)
	defaultFailedJobsHistory     = int32(1)
	// maxCronJobNameLength leaves room for the 11-character suffix the
	// controller appends to name each job.
	maxCronJobNameLength = 52
)

// cronJobStrategy defaults and validates cron jobs.
type cronJobStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy. The job template keeps its job
// spec as written; only its pod template takes defaults.
func (cronJobStrategy) Default(obj runtime.Object) {
	cj, ok := obj.(*batchv1.CronJob)
	if !ok {
		return
	}
	spec := &cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr.To(defaultSuccessfulJobsHistory)
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr.To(defaultFailedJobsHistory)
	}
	core.DefaultPodTemplateSpec(&spec.JobTemplate.Spec.Template)
}

// Validate implements registry.Strategy.
func (cronJobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cj, ok := obj.(*batchv1.CronJob)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	if len(cj.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, "must be no more than 52 characters"))
	}
	spec := &cj.Spec
	p := field.NewPath("spec")
	errs = append(errs, validateSchedule(spec.Schedule, p.Child("schedule"))...)
	if tz := spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
			errs = append(errs, field.Invalid(p.Child("timeZone"), *tz, "unknown time zone "+*tz))
		}
	}
	errs = append(errs, nonNegative(spec.StartingDeadlineSeconds, p.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegative(spec.SuccessfulJobsHistoryLimit, p.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegative(spec.FailedJobsHistoryLimit, p.Child("failedJobsHistoryLimit"))...)
	errs = append(errs, oneOf(p.Child("concurrencyPolicy"), string(spec.ConcurrencyPolicy),
		string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent))...)
	jp := p.Child("jobTemplate")
	errs = append(errs, metav1validation.ValidateLabels(spec.JobTemplate.Labels, jp.Child("metadata", "labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(spec.JobTemplate.Annotations, jp.Child("metadata", "annotations"))...)
	if sel := spec.JobTemplate.Spec.Selector; sel != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, jp.Child("spec", "selector"))...)
	}
	return append(errs, validateJobSpec(&spec.JobTemplate.Spec, jp.Child("spec"))...)
}

func validateSchedule(schedule string, p *field.Path) field.ErrorList {
	if schedule == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if strings.Contains(schedule, "TZ=") {
		return field.ErrorList{field.Invalid(p, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")}
	}
	if _, err := cron.Parse(schedule); err != nil {
		return field.ErrorList{field.Invalid(p, schedule, err.Error())}
	}
	return nil
}

// ValidateUpdate implements registry.Strategy.
func (s cronJobStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
