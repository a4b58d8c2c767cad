package tables

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func jobWith(name string, mutate func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: om(name), Spec: batchv1.JobSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}},
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pi", Image: "perl:5"}}}},
	}}
	mutate(j)
	return j
}

func jobConditions(types ...batchv1.JobConditionType) []batchv1.JobCondition {
	var out []batchv1.JobCondition
	for _, t := range types {
		out = append(out, batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue})
	}
	return out
}

func TestJobCells(t *testing.T) {
	const sel = "batch.kubernetes.io/controller-uid=u1"
	runCellCases(t, []cellCase{
		{"complete", jobWith("pi", func(j *batchv1.Job) {
			j.Spec.Completions = ptr[int32](1)
			j.Status = batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(4 * time.Minute), CompletionTime: agoPtr(4*time.Minute - 17*time.Second),
				Conditions: jobConditions(batchv1.JobSuccessCriteriaMet, batchv1.JobComplete)}
		}), []any{"pi", "Complete", "1/1", "17s", "5m", "pi", "perl:5", sel}},
		{"running", jobWith("run", func(j *batchv1.Job) {
			j.Spec.Completions = ptr[int32](5)
			j.Status = batchv1.JobStatus{Succeeded: 2, StartTime: agoPtr(90 * time.Second)}
		}), []any{"run", "Running", "2/5", "90s", "5m", "pi", "perl:5", sel}},
		{"work queue", jobWith("queue", func(j *batchv1.Job) {
			j.Spec.Parallelism = ptr[int32](4)
		}), []any{"queue", "Running", "0/1 of 4", "", "5m", "pi", "perl:5", sel}},
		{"single without completions", jobWith("one", func(j *batchv1.Job) {
			j.Spec.Parallelism = ptr[int32](1)
		}), []any{"one", "Running", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"failed", jobWith("bad", func(j *batchv1.Job) {
			j.Spec.Completions = ptr[int32](1)
			j.Status.Conditions = jobConditions(batchv1.JobFailureTarget, batchv1.JobFailed)
		}), []any{"bad", "Failed", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"failure target", jobWith("ft", func(j *batchv1.Job) {
			j.Status.Conditions = jobConditions(batchv1.JobFailureTarget)
		}), []any{"ft", "FailureTarget", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"success criteria met", jobWith("scm", func(j *batchv1.Job) {
			j.Status.Conditions = jobConditions(batchv1.JobSuccessCriteriaMet)
		}), []any{"scm", "SuccessCriteriaMet", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"suspended", jobWith("sus", func(j *batchv1.Job) {
			j.Spec.Suspend = ptr(true)
			j.Status.Conditions = jobConditions(batchv1.JobSuspended)
		}), []any{"sus", "Suspended", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"false condition ignored", jobWith("f", func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionFalse}}
		}), []any{"f", "Running", "0/1", "", "5m", "pi", "perl:5", sel}},
		{"terminating", jobWith("del", func(j *batchv1.Job) {
			j.DeletionTimestamp = agoPtr(time.Second)
			j.Status.Conditions = jobConditions(batchv1.JobSuspended)
		}), []any{"del", "Terminating", "0/1", "", "5m", "pi", "perl:5", sel}},
	})
}

func TestCronJobCells(t *testing.T) {
	tmpl := batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "hello", Image: "busybox:1.36"}},
	}}}}
	runCellCases(t, []cellCase{
		{"scheduled", &batchv1.CronJob{
			ObjectMeta: om("hello"),
			Spec:       batchv1.CronJobSpec{Schedule: "*/1 * * * *", Suspend: ptr(false), JobTemplate: tmpl},
			Status:     batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "hello-1"}}, LastScheduleTime: agoPtr(42 * time.Second)},
		}, []any{"hello", "*/1 * * * *", "<none>", "False", int64(1), "42s", "5m", "hello", "busybox:1.36", "<none>"}},
		{"never run, time zone", &batchv1.CronJob{
			ObjectMeta: om("nightly"),
			Spec:       batchv1.CronJobSpec{Schedule: "0 3 * * *", TimeZone: ptr("Europe/Berlin"), Suspend: ptr(true), JobTemplate: tmpl},
		}, []any{"nightly", "0 3 * * *", "Europe/Berlin", "True", int64(0), "<none>", "5m", "hello", "busybox:1.36", "<none>"}},
		{"suspend unset", &batchv1.CronJob{ObjectMeta: om("u"), Spec: batchv1.CronJobSpec{Schedule: "@hourly"}},
			[]any{"u", "@hourly", "<none>", "<unset>", int64(0), "<none>", "5m", "", "", "<none>"}},
	})
}
