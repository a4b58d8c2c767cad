package batch

import (
	"context"
	"strings"
	"testing"
	"time"

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

func TestParseSchedule(t *testing.T) {
	valid := []string{
		"* * * * *", "0 0 1 1 *", "*/15 9-17 * * MON-FRI", "0,30 * ? * ?", "5/10 * * jan,Jul *", " 0  0 * * * ",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@HOURLY",
	}
	for _, s := range valid {
		if _, err := ParseSchedule(s); err != nil {
			t.Errorf("ParseSchedule(%q): %v", s, err)
		}
	}
	for _, s := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", "@every 1h", "@reboot", "1,,2 * * * *", "-1 * * * *", "? * * * *",
	} {
		if _, err := ParseSchedule(s); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded", s)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		schedule, from, want string
	}{
		{"*/5 * * * *", "2026-01-01T10:02:30Z", "2026-01-01T10:05:00Z"},
		{"0 * * * *", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"},
		{"@daily", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"},
		{"0 9 * * MON", "2026-01-01T00:00:00Z", "2026-01-05T09:00:00Z"},      // 2026-01-01 is a Thursday
		{"0 0 13 * FRI", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},     // either day field
		{"30 6 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T06:30:00Z"},      // next leap day
		{"0 0 30 2 *", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},       // never
		{"15 10-12/2 * * *", "2026-01-01T10:15:00Z", "2026-01-01T12:15:00Z"}, // steps over a range
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.schedule)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%q after %s = %s, want %s", tt.schedule, tt.from, got.Format(time.RFC3339), tt.want)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/15 9-17 * * MON-FRI", "@daily", "5/10 * * jan,Jul *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec)
		if err != nil {
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if next := s.Next(from); !next.IsZero() && !next.After(from) {
			t.Errorf("Next(%q) = %s, not after %s", spec, next, from)
		}
	})
}
