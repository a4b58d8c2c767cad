package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func cronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: job().Spec},
		},
	}
}

func TestCronJobDefaults(t *testing.T) {
	cj := cronJob()
	cronJobStrategy{}.Default(cj)
	got := []any{cj.Spec.ConcurrencyPolicy, *cj.Spec.Suspend, *cj.Spec.SuccessfulJobsHistoryLimit, *cj.Spec.FailedJobsHistoryLimit}
	if diff := cmp.Diff([]any{batchv1.AllowConcurrent, false, int32(3), int32(1)}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	tmpl := cj.Spec.JobTemplate.Spec
	if tmpl.Template.Spec.SchedulerName != corev1.DefaultSchedulerName {
		t.Error("pod template not defaulted")
	}
	if tmpl.BackoffLimit != nil || tmpl.Completions != nil {
		t.Error("job template got job defaults")
	}
}

func TestCronJobValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []string
	}{
		{"valid", func(*batchv1.CronJob) {}, nil},
		{"descriptor", func(c *batchv1.CronJob) { c.Spec.Schedule = "@daily" }, nil},
		{"time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Europe/Paris") }, nil},
		{"no schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, []string{"FieldValueRequired spec.schedule"}},
		{"@every", func(c *batchv1.CronJob) { c.Spec.Schedule = "@every 5m" }, []string{"FieldValueInvalid spec.schedule"}},
		{"TZ in schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" }, []string{"FieldValueInvalid spec.schedule"}},
		{"unknown time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Mars/Olympus") }, []string{"FieldValueInvalid spec.timeZone"}},
		{"long name", func(c *batchv1.CronJob) { c.Name = strings.Repeat("a", 53) }, []string{"FieldValueInvalid metadata.name"}},
		{"bad policy", func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Sometimes" }, []string{"FieldValueNotSupported spec.concurrencyPolicy"}},
		{"restart Always", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		},
			[]string{"FieldValueNotSupported spec.jobTemplate.spec.template.spec.restartPolicy"}},
		{"negative history", func(c *batchv1.CronJob) { c.Spec.FailedJobsHistoryLimit = ptr.To[int32](-1) },
			[]string{"FieldValueInvalid spec.failedJobsHistoryLimit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cj := cronJob()
			tt.mutate(cj)
			cronJobStrategy{}.Default(cj)
			if diff := cmp.Diff(tt.want, summary(cronJobStrategy{}.Validate(context.Background(), cj))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
