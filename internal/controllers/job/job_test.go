package job

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestNonIndexedJobRunsToCompletion(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("pi", func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](3), ptr.To[int32](2) }))

	h.settle("pi")
	pods := h.activePods()
	if len(pods) != 2 {
		t.Fatalf("got %d active pods, want 2", len(pods))
	}
	pod := pods[0]
	if !strings.HasPrefix(pod.Name, "pi-") || !hasTrackingFinalizer(pod) {
		t.Errorf("pod %s: want name pi-… and the tracking finalizer, got finalizers %v", pod.Name, pod.Finalizers)
	}
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Kind != "Job" || ref.Name != "pi" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("pod owner reference = %+v", ref)
	}
	if pod.Labels[batchv1.JobNameLabel] != "pi" {
		t.Errorf("pod labels = %v", pod.Labels)
	}
	job := h.job("pi")
	if job.Status.Active != 2 || job.Status.StartTime == nil || job.Status.UncountedTerminatedPods == nil {
		t.Errorf("status = %+v", job.Status)
	}

	for _, p := range pods {
		h.finish(p, 0)
	}
	h.refresh()
	h.settle("pi")
	job = h.job("pi")
	if job.Status.Succeeded != 2 || job.Status.Active != 1 {
		t.Fatalf("after two successes: succeeded=%d active=%d, want 2 and 1", job.Status.Succeeded, job.Status.Active)
	}
	for _, p := range h.allPods() {
		if isTerminal(p) && hasTrackingFinalizer(p) {
			t.Errorf("counted pod %s still holds the finalizer", p.Name)
		}
	}
	h.finish(h.activePods()[0], 0)
	h.refresh()
	h.settle("pi")
	job = h.job("pi")
	want := []string{"SuccessCriteriaMet=True/CompletionsReached", "Complete=True/CompletionsReached"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if job.Status.Succeeded != 3 || job.Status.Active != 0 || job.Status.CompletionTime == nil {
		t.Errorf("final status = %+v", job.Status)
	}
	if u := job.Status.UncountedTerminatedPods; u == nil || len(u.Succeeded)+len(u.Failed) != 0 {
		t.Errorf("uncounted = %+v, want empty", u)
	}
	if got := h.events(); !slices.Contains(got, "Normal Completed Job completed") {
		t.Errorf("events %v lack Completed", got)
	}
}

func TestCountingSurvivesStaleCaches(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("stale", func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](2), ptr.To[int32](1) }))
	h.settle("stale")
	h.finish(h.activePods()[0], 0)
	h.refresh()
	h.sync("stale")
	// The pod cache still shows the counted pod with its finalizer; the
	// job cache is fresh. The pod must not be counted twice, nor a second
	// replacement created before the cache shows the first.
	list, err := h.client.BatchV1().Jobs("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.jobs.Replace(toObjects(list.Items), ""); err != nil {
		t.Fatal(err)
	}
	h.sync("stale")
	h.sync("stale")
	job := h.job("stale")
	if job.Status.Succeeded != 1 {
		t.Errorf("succeeded = %d, want 1", job.Status.Succeeded)
	}
	if n := len(h.activePods()); n != 1 {
		t.Errorf("%d active pods, want 1", n)
	}
}

func TestBackoffLimitExceeded(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("fail", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1) }))
	h.settle("fail")

	h.finish(h.activePods()[0], 1)
	h.refresh()
	after := h.settle("fail")
	if n := len(h.activePods()); n != 0 || after != initialBackoff {
		t.Fatalf("after the first failure: %d active pods, requeue %v; want none and %v", n, after, initialBackoff)
	}
	h.clock.Step(initialBackoff)
	h.settle("fail")
	if n := len(h.activePods()); n != 1 {
		t.Fatalf("after the back-off: %d active pods, want 1", n)
	}
	h.finish(h.activePods()[0], 1)
	h.refresh()
	h.settle("fail")
	job := h.job("fail")
	want := []string{"FailureTarget=True/BackoffLimitExceeded", "Failed=True/BackoffLimitExceeded"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if job.Status.Failed != 2 || job.Status.CompletionTime != nil {
		t.Errorf("status = %+v", job.Status)
	}
	if got := h.events(); !slices.Contains(got, "Warning BackoffLimitExceeded "+messageBackoff) {
		t.Errorf("events %v lack BackoffLimitExceeded", got)
	}
}

func TestPodFailurePolicyFailJob(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("pfp", func(j *batchv1.Job) {
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](2), ptr.To[int32](2)
		j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			Action:      batchv1.PodFailurePolicyActionFailJob,
			OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
		}}}
	}))
	h.settle("pfp")
	pods := h.activePods()
	for _, p := range pods { // scheduled: a kubelet will finish them
		p.Spec.NodeName = "node-1"
		if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	h.finish(pods[0], 42)
	h.refresh()
	h.settle("pfp")
	job := h.job("pfp")
	// The other pod was deleted; it has not failed yet, so the job waits.
	if diff := cmp.Diff([]string{"FailureTarget=True/PodFailurePolicy"}, conditionSummary(job)); diff != "" {
		t.Fatalf("conditions (-want +got):\n%s", diff)
	}
	wantMsg := "Container main for pod default/" + pods[0].Name + " failed with exit code 42 matching FailJob rule at index 0"
	if got := job.Status.Conditions[0].Message; got != wantMsg {
		t.Errorf("message = %q, want %q", got, wantMsg)
	}
	if ptr.Deref(job.Status.Terminating, 0) != 1 {
		t.Errorf("terminating = %v, want 1", job.Status.Terminating)
	}
	other, err := h.client.CoreV1().Pods("default").Get(h.ctx, pods[1].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.finish(other, 137)
	h.refresh()
	h.settle("pfp")
	job = h.job("pfp")
	want := []string{"FailureTarget=True/PodFailurePolicy", "Failed=True/PodFailurePolicy"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if job.Status.Failed != 2 {
		t.Errorf("failed = %d, want 2", job.Status.Failed)
	}
}

func TestPodFailurePolicyIgnore(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("ign", func(j *batchv1.Job) {
		j.Spec.BackoffLimit = ptr.To[int32](0)
		j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			Action:          batchv1.PodFailurePolicyActionIgnore,
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
		}}}
	}))
	h.settle("ign")
	pod := h.activePods()[0].DeepCopy()
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	h.finish(pod, 143)
	h.refresh()
	h.settle("ign")
	job := h.job("ign")
	if job.Status.Failed != 0 || len(job.Status.Conditions) != 0 {
		t.Errorf("status after an ignored failure = %+v", job.Status)
	}
	if n := len(h.activePods()); n != 1 {
		t.Errorf("%d active pods, want a replacement", n)
	}
}

func TestActiveDeadline(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("slow", func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }))
	if after := h.settle("slow"); after != 30*time.Second {
		t.Fatalf("requeue %v, want 30s", after)
	}
	h.clock.Step(30 * time.Second)
	h.settle("slow")
	job := h.job("slow")
	want := []string{"FailureTarget=True/DeadlineExceeded", "Failed=True/DeadlineExceeded"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if n := len(h.allPods()); n != 0 {
		t.Errorf("%d pods left, want none", n)
	}
	if job.Status.Failed != 1 || job.Status.Active != 0 {
		t.Errorf("status = %+v", job.Status)
	}
}

func TestSuspendAndResume(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("sus", func(j *batchv1.Job) {
		j.Spec.Suspend = ptr.To(true)
		j.Spec.Parallelism, j.Spec.Completions = ptr.To[int32](2), ptr.To[int32](4)
	}))
	h.settle("sus")
	job := h.job("sus")
	if len(h.allPods()) != 0 || job.Status.StartTime != nil {
		t.Fatalf("suspended job: %d pods, startTime %v", len(h.allPods()), job.Status.StartTime)
	}
	if diff := cmp.Diff([]string{"Suspended=True/JobSuspended"}, conditionSummary(job)); diff != "" {
		t.Fatalf("conditions (-want +got):\n%s", diff)
	}

	h.clock.Step(time.Minute)
	job.Spec.Suspend = ptr.To(false)
	if _, err := h.client.BatchV1().Jobs("default").Update(h.ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.settle("sus")
	job = h.job("sus")
	if n := len(h.activePods()); n != 2 {
		t.Fatalf("resumed: %d active pods, want 2", n)
	}
	if job.Status.StartTime == nil || !job.Status.StartTime.Time.Equal(h.clock.Now()) {
		t.Errorf("startTime = %v, want %v", job.Status.StartTime, h.clock.Now())
	}
	if diff := cmp.Diff([]string{"Suspended=False/JobResumed"}, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}

	job.Spec.Suspend = ptr.To(true)
	if _, err := h.client.BatchV1().Jobs("default").Update(h.ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.settle("sus")
	job = h.job("sus")
	if n := len(h.allPods()); n != 0 {
		t.Errorf("suspended again: %d pods left, want none", n)
	}
	if job.Status.Failed != 0 || job.Status.Active != 0 {
		t.Errorf("pods deleted by suspension must not count as failed: %+v", job.Status)
	}
	if got := h.events(); !slices.Contains(got, "Normal Resumed Job resumed") || !slices.Contains(got, "Normal Suspended Job suspended") {
		t.Errorf("events %v lack Suspended and Resumed", got)
	}
}

func TestIndexedJob(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("idx", func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](5), ptr.To[int32](2)
	}))
	h.settle("idx")
	pods := h.activePods()
	var got []string
	for _, p := range pods {
		got = append(got, p.Annotations[batchv1.JobCompletionIndexAnnotation]+":"+p.Labels[batchv1.JobCompletionIndexAnnotation]+":"+p.Spec.Hostname)
		if !strings.HasPrefix(p.Name, "idx-"+p.Annotations[batchv1.JobCompletionIndexAnnotation]+"-") {
			t.Errorf("pod name %s lacks its index", p.Name)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom == nil ||
			env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("pod %s env = %+v", p.Name, env)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"0:0:idx-0", "1:1:idx-1"}, got); diff != "" {
		t.Fatalf("indexes (-want +got):\n%s", diff)
	}
	// Finish index 1 first: index 2 starts next, 0 keeps running.
	for _, p := range pods {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
			h.finish(p, 0)
		}
	}
	h.refresh()
	h.settle("idx")
	if got := h.job("idx").Status.CompletedIndexes; got != "1" {
		t.Errorf("completedIndexes = %q, want 1", got)
	}
	for len(h.activePods()) > 0 {
		for _, p := range h.activePods() {
			h.finish(p, 0)
		}
		h.refresh()
		h.settle("idx")
	}
	job := h.job("idx")
	if job.Status.CompletedIndexes != "0-4" || job.Status.Succeeded != 5 || !isFinished(job) {
		t.Errorf("final status = %+v", job.Status)
	}
}

func TestBackoffLimitPerIndex(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("per", func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](2), ptr.To[int32](2)
		j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
		j.Spec.BackoffLimit = ptr.To[int32](1 << 30)
	}))
	h.settle("per")
	failIndex := func(ix string) {
		for _, p := range h.activePods() {
			if p.Annotations[batchv1.JobCompletionIndexAnnotation] == ix {
				h.finish(p, 1)
			}
		}
		h.refresh()
	}
	failIndex("0")
	if after := h.settle("per"); after != initialBackoff {
		t.Fatalf("requeue %v, want the index's back-off %v", after, initialBackoff)
	}
	h.clock.Step(initialBackoff)
	h.settle("per")
	var retry *corev1.Pod
	for _, p := range h.activePods() {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "0" {
			retry = p
		}
	}
	if retry == nil || retry.Annotations[batchv1.JobIndexFailureCountAnnotation] != "1" {
		t.Fatalf("retry of index 0 = %+v", retry)
	}
	failIndex("0")
	h.settle("per")
	if got := ptr.Deref(h.job("per").Status.FailedIndexes, ""); got != "0" {
		t.Errorf("failedIndexes = %q, want 0", got)
	}
	for _, p := range h.activePods() {
		h.finish(p, 0)
	}
	h.refresh()
	h.settle("per")
	job := h.job("per")
	want := []string{"FailureTarget=True/FailedIndexes", "Failed=True/FailedIndexes"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if job.Status.CompletedIndexes != "1" {
		t.Errorf("completedIndexes = %q, want 1", job.Status.CompletedIndexes)
	}
}

func TestSuccessPolicy(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("leader", func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0")}}}
	}))
	h.settle("leader")
	for _, p := range h.activePods() {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "0" {
			h.finish(p, 0)
		}
	}
	h.refresh()
	h.settle("leader")
	job := h.job("leader")
	want := []string{"SuccessCriteriaMet=True/SuccessPolicy", "Complete=True/SuccessPolicy"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if n := len(h.allPods()); n != 1 {
		t.Errorf("%d pods left, want only the succeeded one", n)
	}
}

func TestReleasesPodsOfDeletedJob(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("gone", nil))
	h.settle("gone")
	pod := h.activePods()[0]
	if err := h.client.BatchV1().Jobs("default").Delete(h.ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	if err := h.c.syncOrphan(h.ctx, "default/"+pod.Name); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.CoreV1().Pods("default").Get(h.ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hasTrackingFinalizer(got) {
		t.Errorf("orphaned pod keeps finalizers %v", got.Finalizers)
	}
}

func TestRestartsCountWithOnFailure(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("restarts", func(j *batchv1.Job) {
		j.Spec.BackoffLimit = ptr.To[int32](2)
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}))
	h.settle("restarts")
	pod := h.activePods()[0].DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", RestartCount: 2}}
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.settle("restarts")
	job := h.job("restarts")
	want := []string{"FailureTarget=True/BackoffLimitExceeded", "Failed=True/BackoffLimitExceeded"}
	if diff := cmp.Diff(want, conditionSummary(job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestUnscheduledPodsOfSuspendedJobAreReleased(t *testing.T) {
	h := newHarness(t)
	h.create(newJob("pend", func(j *batchv1.Job) {
		j.Spec.Parallelism, j.Spec.Completions = ptr.To[int32](2), ptr.To[int32](2)
		j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
	}))
	h.settle("pend")
	if n := len(h.activePods()); n != 2 {
		t.Fatalf("%d active pods, want 2", n)
	}
	job := h.job("pend")
	job.Spec.Suspend = ptr.To(true)
	if _, err := h.client.BatchV1().Jobs("default").Update(h.ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.settle("pend")
	job = h.job("pend")
	if n := len(h.allPods()); n != 0 || job.Status.Failed != 0 || ptr.Deref(job.Status.Terminating, -1) != 0 {
		t.Errorf("%d pods left, status %+v; want none, nothing failed or terminating", n, job.Status)
	}
}
