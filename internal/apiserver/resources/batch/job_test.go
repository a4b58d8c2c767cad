package batch

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// summary reduces field errors to "<type> <path>", what tests compare.
func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s", string(e.Type), e.Field))
	}
	return out
}

var jobs = jobStrategy{registry.DefaultStrategy{HasStatus: true}}

func job() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: "0000-1111"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "pi", Image: "perl:5.34"}},
		}}},
	}
}

// created runs a job through the create hooks, as the store does.
func created(j *batchv1.Job) *batchv1.Job {
	jobs.PrepareForCreate(context.Background(), j)
	jobs.Default(j)
	return j
}

func TestJobCreate(t *testing.T) {
	j := created(job())
	generated := map[string]string{
		"batch.kubernetes.io/controller-uid": "0000-1111", "batch.kubernetes.io/job-name": "pi",
		"controller-uid": "0000-1111", "job-name": "pi",
	}
	if diff := cmp.Diff(generated, j.Spec.Template.Labels); diff != "" {
		t.Errorf("template labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(generated, j.Labels); diff != "" {
		t.Errorf("job labels (-want +got):\n%s", diff)
	}
	wantSel := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "0000-1111"}}
	if diff := cmp.Diff(wantSel, j.Spec.Selector); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&batchv1.JobSpec{
		Parallelism: ptr.To[int32](1), Completions: ptr.To[int32](1), BackoffLimit: ptr.To[int32](6),
		CompletionMode: ptr.To(batchv1.NonIndexedCompletion), Suspend: ptr.To(false),
		PodReplacementPolicy: ptr.To(batchv1.TerminatingOrFailed),
	}, &batchv1.JobSpec{
		Parallelism: j.Spec.Parallelism, Completions: j.Spec.Completions, BackoffLimit: j.Spec.BackoffLimit,
		CompletionMode: j.Spec.CompletionMode, Suspend: j.Spec.Suspend, PodReplacementPolicy: j.Spec.PodReplacementPolicy,
	}); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if j.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Error("pod template not defaulted")
	}
	if errs := jobs.Validate(context.Background(), j); len(errs) > 0 {
		t.Errorf("created job invalid: %v", errs)
	}
}

func TestJobDefaults(t *testing.T) {
	tests := []struct {
		name                    string
		mutate                  func(*batchv1.JobSpec)
		parallelism, completion *int32
		backoff                 int32
		replacement             batchv1.PodReplacementPolicy
	}{
		{"work queue", func(s *batchv1.JobSpec) { s.Parallelism = ptr.To[int32](3) }, ptr.To[int32](3), nil, 6, batchv1.TerminatingOrFailed},
		{"fixed count", func(s *batchv1.JobSpec) { s.Completions = ptr.To[int32](5) }, ptr.To[int32](1), ptr.To[int32](5), 6, batchv1.TerminatingOrFailed},
		{"per-index backoff", func(s *batchv1.JobSpec) { s.BackoffLimitPerIndex = ptr.To[int32](1) },
			ptr.To[int32](1), ptr.To[int32](1), math.MaxInt32, batchv1.TerminatingOrFailed},
		{"failure policy", func(s *batchv1.JobSpec) {
			s.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}},
			}}}
		}, ptr.To[int32](1), ptr.To[int32](1), 6, batchv1.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job()
			tt.mutate(&j.Spec)
			created(j)
			got := []any{j.Spec.Parallelism, j.Spec.Completions, *j.Spec.BackoffLimit, *j.Spec.PodReplacementPolicy}
			want := []any{tt.parallelism, tt.completion, tt.backoff, tt.replacement}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if pfp := j.Spec.PodFailurePolicy; pfp != nil && pfp.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
				t.Errorf("condition status not defaulted")
			}
		})
	}
}

func TestJobValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []string
	}{
		{"restart Always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			[]string{"FieldValueNotSupported spec.template.spec.restartPolicy"}},
		{"negative parallelism", func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](-1) }, []string{"FieldValueInvalid spec.parallelism"}},
		{"indexed without completions", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Parallelism = ptr.To[int32](2)
		}, []string{"FieldValueRequired spec.completions"}},
		{"bad completion mode", func(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To[batchv1.CompletionMode]("Sometimes") },
			[]string{"FieldValueNotSupported spec.completionMode"}},
		{"manual selector not matching", func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
		}, []string{"FieldValueInvalid spec.template.metadata.labels"}},
		{"failure policy with OnFailure", func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
			}}}
		}, []string{"FieldValueInvalid spec.template.spec.restartPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job()
			tt.mutate(j)
			created(j)
			if diff := cmp.Diff(tt.want, summary(jobs.Validate(context.Background(), j))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobValidateUpdate(t *testing.T) {
	suspended := created(job())
	suspended.Spec.Suspend = ptr.To(true)
	running := created(job())
	running.Status.StartTime = &metav1.Time{}
	tests := []struct {
		name   string
		old    *batchv1.Job
		mutate func(*batchv1.Job)
		want   []string
	}{
		{"suspend", running, func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) }, nil},
		{"parallelism", running, func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](4) }, nil},
		{"image of a running job", running, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:6" },
			[]string{"FieldValueInvalid spec.template"}},
		{"node selector of a suspended job", suspended, func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, nil},
		{"image of a suspended job", suspended, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:6" },
			[]string{"FieldValueInvalid spec.template"}},
		{"completions", running, func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](3) }, []string{"FieldValueInvalid spec.completions"}},
		{"selector", running, func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["job-name"] = "pi" },
			[]string{"FieldValueInvalid spec.selector"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.old.DeepCopy()
			tt.mutate(j)
			if diff := cmp.Diff(tt.want, summary(jobs.ValidateUpdate(context.Background(), j, tt.old))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobGetAttrs(t *testing.T) {
	j := created(job())
	j.Status.Succeeded = 2
	_, fs, err := jobs.GetAttrs(j)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fields.Set{"metadata.name": "pi", "metadata.namespace": "default", "status.successful": "2"}, fs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStrategies(t *testing.T) {
	if n := len(Strategies()); n != 2 {
		t.Errorf("%d strategies, want 2", n)
	}
}
