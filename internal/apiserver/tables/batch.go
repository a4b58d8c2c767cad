package tables

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// batchPrinters are the printers of the batch group.
func batchPrinters() []*printer {
	gv := batchv1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("Job"), jobColumns, jobCells),
		typed(gv.WithKind("CronJob"), cronJobColumns, cronJobCells),
	}
}

var jobColumns = columns(
	nameColumn(),
	strCol("Status", "Status of the job."),
	strCol("Completions", "The number of succeeded pods and the number the job wants."),
	strCol("Duration", "Time required to complete the job."),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", batchv1.JobSpec{}.SwaggerDoc()["selector"])),
)

func jobCells(job *batchv1.Job, now time.Time) []any {
	var completions string
	switch {
	case job.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	case job.Spec.Parallelism != nil && *job.Spec.Parallelism > 1:
		// A work queue job: done when one pod succeeds.
		completions = fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, *job.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", job.Status.Succeeded)
	}
	var duration string
	switch start, end := job.Status.StartTime, job.Status.CompletionTime; {
	case start == nil:
	case end == nil:
		duration = HumanDuration(now.Sub(start.Time))
	default:
		duration = HumanDuration(end.Sub(start.Time))
	}
	names, images := containersAndImages(job.Spec.Template.Spec)
	return []any{
		job.Name,
		jobStatus(job),
		completions,
		duration,
		ageSince(job.CreationTimestamp, now),
		names, images,
		metav1.FormatLabelSelector(job.Spec.Selector),
	}
}

// jobStatus is the first that holds of: Complete, Failed, Terminating,
// Suspended, FailureTarget, SuccessCriteriaMet; else Running.
func jobStatus(job *batchv1.Job) string {
	switch {
	case jobCondition(job, batchv1.JobComplete):
		return "Complete"
	case jobCondition(job, batchv1.JobFailed):
		return "Failed"
	case job.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(job, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(job, batchv1.JobFailureTarget):
		return "FailureTarget"
	case jobCondition(job, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	default:
		return "Running"
	}
}

// jobCondition reports whether the job has condition t with status True.
func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

var cronJobColumns = columns(
	nameColumn(),
	strCol("Schedule", batchv1.CronJobSpec{}.SwaggerDoc()["schedule"]),
	strCol("Timezone", batchv1.CronJobSpec{}.SwaggerDoc()["timeZone"]),
	boolCol("Suspend", batchv1.CronJobSpec{}.SwaggerDoc()["suspend"]),
	intCol("Active", batchv1.CronJobStatus{}.SwaggerDoc()["active"]),
	strCol("Last Schedule", batchv1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", batchv1.JobSpec{}.SwaggerDoc()["selector"])),
)

func cronJobCells(cj *batchv1.CronJob, now time.Time) []any {
	last := "<none>"
	if cj.Status.LastScheduleTime != nil {
		last = ageSince(*cj.Status.LastScheduleTime, now)
	}
	timeZone := "<none>"
	if cj.Spec.TimeZone != nil {
		timeZone = *cj.Spec.TimeZone
	}
	tmpl := cj.Spec.JobTemplate.Spec
	names, images := containersAndImages(tmpl.Template.Spec)
	return []any{
		cj.Name,
		cj.Spec.Schedule,
		timeZone,
		boolPtr(cj.Spec.Suspend),
		int64(len(cj.Status.Active)),
		last,
		ageSince(cj.CreationTimestamp, now),
		names, images,
		metav1.FormatLabelSelector(tmpl.Selector),
	}
}
