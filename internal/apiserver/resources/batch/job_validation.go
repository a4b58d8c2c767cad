package batch

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/resources/core"
)

// maxManagedByLength bounds spec.managedBy.
const maxManagedByLength = 63

var failurePolicyActions = []string{string(batchv1.PodFailurePolicyActionFailJob), string(batchv1.PodFailurePolicyActionFailIndex),
	string(batchv1.PodFailurePolicyActionIgnore), string(batchv1.PodFailurePolicyActionCount)}

// validateJobSpec validates a defaulted job spec, of a job or of a cron
// job's template; the selector is checked by the caller.
func validateJobSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	tp := p.Child("template")
	errs := core.ValidatePodTemplateSpec(&spec.Template, tp)
	restartPath := tp.Child("spec", "restartPolicy")
	errs = append(errs, core.RestartPolicyIn(spec.Template.Spec.RestartPolicy, restartPath, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
	errs = append(errs, nonNegative(spec.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, nonNegative(spec.Completions, p.Child("completions"))...)
	errs = append(errs, nonNegative(spec.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, nonNegative(spec.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	errs = append(errs, nonNegative(spec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	errs = append(errs, nonNegative(spec.MaxFailedIndexes, p.Child("maxFailedIndexes"))...)
	if d := spec.ActiveDeadlineSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *d, "must be greater than 0"))
	}
	mode := ptr.Deref(spec.CompletionMode, batchv1.NonIndexedCompletion)
	errs = append(errs, oneOf(p.Child("completionMode"), string(mode), string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion))...)
	if mode == batchv1.IndexedCompletion && spec.Completions == nil {
		errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
	}
	if mode != batchv1.IndexedCompletion {
		if spec.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Forbidden(p.Child("backoffLimitPerIndex"), "requires indexed completion mode"))
		}
		if spec.MaxFailedIndexes != nil {
			errs = append(errs, field.Forbidden(p.Child("maxFailedIndexes"), "requires indexed completion mode"))
		}
	}
	if spec.MaxFailedIndexes != nil && spec.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	if rp := spec.PodReplacementPolicy; rp != nil {
		errs = append(errs, oneOf(p.Child("podReplacementPolicy"), string(*rp), string(batchv1.TerminatingOrFailed), string(batchv1.Failed))...)
		if spec.PodFailurePolicy != nil && *rp != batchv1.Failed {
			errs = append(errs, field.NotSupported(p.Child("podReplacementPolicy"), *rp, []string{string(batchv1.Failed)}))
		}
	}
	if pfp := spec.PodFailurePolicy; pfp != nil {
		if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			errs = append(errs, field.Invalid(restartPath, spec.Template.Spec.RestartPolicy, "only \"Never\" is supported when podFailurePolicy is specified"))
		}
		for i, r := range pfp.Rules {
			rp := p.Child("podFailurePolicy", "rules").Index(i)
			errs = append(errs, oneOf(rp.Child("action"), string(r.Action), failurePolicyActions...)...)
			if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
				errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "exactly one of onExitCodes and onPodConditions is required"))
			}
		}
	}
	if mb := spec.ManagedBy; mb != nil {
		errs = append(errs, validation.IsDomainPrefixedPath(p.Child("managedBy"), *mb)...)
		if len(*mb) > maxManagedByLength {
			errs = append(errs, field.TooLong(p.Child("managedBy"), "", maxManagedByLength))
		}
	}
	return errs
}

// validateJobUpdate keeps what identifies a job's pods and how they
// complete. The pod template may change only in its scheduling directives,
// and only while the job is suspended and has never started.
func validateJobUpdate(job, old *batchv1.Job) field.ErrorList {
	p := field.NewPath("spec")
	spec, oldSpec := &job.Spec, &old.Spec
	errs := apivalidation.ValidateImmutableField(spec.Selector, oldSpec.Selector, p.Child("selector"))
	errs = append(errs, apivalidation.ValidateImmutableField(spec.CompletionMode, oldSpec.CompletionMode, p.Child("completionMode"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(spec.PodFailurePolicy, oldSpec.PodFailurePolicy, p.Child("podFailurePolicy"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(spec.BackoffLimitPerIndex, oldSpec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(spec.ManagedBy, oldSpec.ManagedBy, p.Child("managedBy"))...)
	if !apiequality.Semantic.DeepEqual(spec.Completions, oldSpec.Completions) {
		elastic := ptr.Deref(spec.CompletionMode, "") == batchv1.IndexedCompletion &&
			spec.Completions != nil && spec.Parallelism != nil && *spec.Completions == *spec.Parallelism
		if !elastic {
			errs = append(errs, field.Invalid(p.Child("completions"), spec.Completions,
				"field is immutable, except for Indexed jobs where it may change in tandem with spec.parallelism"))
		}
	}
	tp := p.Child("template")
	if !ptr.Deref(oldSpec.Suspend, false) || old.Status.StartTime != nil {
		return append(errs, apivalidation.ValidateImmutableField(spec.Template, oldSpec.Template, tp)...)
	}
	m := oldSpec.Template.DeepCopy()
	m.Labels, m.Annotations = spec.Template.Labels, spec.Template.Annotations
	m.Spec.NodeSelector, m.Spec.Affinity = spec.Template.Spec.NodeSelector, spec.Template.Spec.Affinity
	m.Spec.Tolerations, m.Spec.SchedulingGates = spec.Template.Spec.Tolerations, spec.Template.Spec.SchedulingGates
	if !apiequality.Semantic.DeepEqual(m, &spec.Template) {
		errs = append(errs, field.Invalid(tp, field.OmitValueType{},
			"field is immutable, except for scheduling directives (labels, annotations, nodeSelector, affinity, tolerations, schedulingGates) of a suspended job that never started"))
	}
	return errs
}
