package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

// The server here runs no node: pods stay Pending until a test plays the
// kubelet with batchFinishPod.

const batchNS = "default"

// batchWait polls cond until it holds, for up to a minute (a failed pod's
// replacement waits out a 10s back-off).
func batchWait(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 90*time.Second, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// batchJob returns a job of one busybox container that never restarts.
func batchJob(name string, edit func(*batchv1.Job)) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: batchNS},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
		}}},
	}
	if edit != nil {
		edit(job)
	}
	return job
}

// batchPods lists the job's pods by the label the API server gives them.
func batchPods(ctx context.Context, c kubernetes.Interface, job string) ([]corev1.Pod, error) {
	list, err := c.CoreV1().Pods(batchNS).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func batchActive(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

// batchFinishPod does what a kubelet does when the pod's only container
// exits: phase Succeeded (exit code 0) or Failed, with the terminated
// state.
func batchFinishPod(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, exitCode int32) error {
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodSucceeded
	reason := "Completed"
	if exitCode != 0 {
		pod.Status.Phase, reason = corev1.PodFailed, "Error"
	}
	now := metav1.Now()
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "main", Image: "busybox", ImageID: "busybox",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: exitCode, Reason: reason, StartedAt: now, FinishedAt: now,
		}},
	}}
	_, err := c.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

// batchFinishActive finishes every active pod of the job and returns how
// many it finished.
func batchFinishActive(ctx context.Context, c kubernetes.Interface, job string, exitCode int32) (int, error) {
	pods, err := batchPods(ctx, c, job)
	if err != nil {
		return 0, err
	}
	active := batchActive(pods)
	finished := 0
	for i := range active {
		err := batchFinishPod(ctx, c, &active[i], exitCode)
		switch {
		case err == nil:
			finished++
		case !apierrors.IsNotFound(err) && !apierrors.IsConflict(err): // a stale list is retried by the caller
			return finished, err
		}
	}
	return finished, nil
}

func batchCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// batchWaitCondition waits until the job has condition t and returns it.
func batchWaitCondition(t *testing.T, c kubernetes.Interface, name string, ct batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	batchWait(t, fmt.Sprintf("job %s %s", name, ct), func(ctx context.Context) (bool, error) {
		var err error
		job, err = c.BatchV1().Jobs(batchNS).Get(ctx, name, metav1.GetOptions{})
		return err == nil && batchCondition(job, ct) != nil, err
	})
	return job
}

func batchConditionTypes(job *batchv1.Job) []batchv1.JobConditionType {
	var out []batchv1.JobConditionType
	for _, c := range job.Status.Conditions {
		if c.Status == corev1.ConditionTrue {
			out = append(out, c.Type)
		}
	}
	return out
}

// batchConcurrency follows the job's pods through a watch and records the
// largest number ever active at once.
type batchConcurrency struct {
	mu     sync.Mutex
	active map[types.UID]bool
	max    int
	done   chan struct{}
}

func watchBatchConcurrency(t *testing.T, c kubernetes.Interface, job string) *batchConcurrency {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.CoreV1().Pods(batchNS).Watch(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	bc := &batchConcurrency{active: map[types.UID]bool{}, done: make(chan struct{})}
	go func() {
		defer close(bc.done)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			bc.mu.Lock()
			running := ev.Type != watch.Deleted && len(batchActive([]corev1.Pod{*pod})) == 1
			if running {
				bc.active[pod.UID] = true
			} else {
				delete(bc.active, pod.UID)
			}
			bc.max = max(bc.max, len(bc.active))
			bc.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		w.Stop()
		<-bc.done
	})
	return bc
}

func (bc *batchConcurrency) peak() int {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return bc.max
}

func TestJobs(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	jobs := c.BatchV1().Jobs(batchNS)

	t.Run("indexed", func(t *testing.T) {
		conc := watchBatchConcurrency(t, c, "indexed")
		_, err := jobs.Create(ctx, batchJob("indexed", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](10), ptr.To[int32](3)
		}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		batchWait(t, "indexed job to complete", func(ctx context.Context) (bool, error) {
			job, err := jobs.Get(ctx, "indexed", metav1.GetOptions{})
			if err != nil || batchCondition(job, batchv1.JobComplete) != nil {
				return err == nil, err
			}
			_, err = batchFinishActive(ctx, c, "indexed", 0)
			return false, err
		})
		job, err := jobs.Get(ctx, "indexed", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if job.Status.CompletedIndexes != "0-9" || job.Status.Succeeded != 10 || job.Status.Active != 0 || job.Status.CompletionTime == nil {
			t.Errorf("status = %+v", job.Status)
		}
		if got := batchConditionTypes(job); !slices.Equal(got, []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete}) {
			t.Errorf("conditions = %v", got)
		}
		if peak := conc.peak(); peak > 3 || peak == 0 {
			t.Errorf("at most %d pods ran at once, want 1 to 3", peak)
		}
		pods, err := batchPods(ctx, c, "indexed")
		if err != nil {
			t.Fatal(err)
		}
		var indexes []string
		for _, p := range pods {
			if slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
				t.Errorf("pod %s still holds the tracking finalizer", p.Name)
			}
			ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
			if p.Spec.Hostname != "indexed-"+ix || p.Labels[batchv1.JobCompletionIndexAnnotation] != ix {
				t.Errorf("pod %s: hostname %q, index label %q, annotation %q", p.Name, p.Spec.Hostname, p.Labels[batchv1.JobCompletionIndexAnnotation], ix)
			}
			indexes = append(indexes, ix)
		}
		slices.Sort(indexes)
		if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(indexes, want) {
			t.Errorf("pod indexes = %v, want %v", indexes, want)
		}
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "get", "job", "indexed")
		if err != nil || !strings.Contains(out, "Complete") || !strings.Contains(out, "10/10") {
			t.Errorf("kubectl get job: %v\n%s", err, out)
		}
		batchWait(t, "the job's Events", func(ctx context.Context) (bool, error) {
			list, err := c.EventsV1().Events(batchNS).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			created, completed := 0, 0
			for _, e := range list.Items {
				if e.Regarding.Name != "indexed" || e.ReportingController != "job-controller" {
					continue
				}
				switch {
				case e.Reason == "SuccessfulCreate" && strings.HasPrefix(e.Note, "Created pod: indexed-"):
					created++
				case e.Reason == "Completed" && e.Note == "Job completed":
					completed++
				}
			}
			return created > 0 && completed == 1, nil
		})
	})

	t.Run("backoff limit", func(t *testing.T) {
		if _, err := jobs.Create(ctx, batchJob("flaky", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1) }), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		failed := 0
		batchWait(t, "two failed pods", func(ctx context.Context) (bool, error) {
			n, err := batchFinishActive(ctx, c, "flaky", 1)
			failed += n
			return failed >= 2, err
		})
		job := batchWaitCondition(t, c, "flaky", batchv1.JobFailed)
		if cond := batchCondition(job, batchv1.JobFailed); cond.Reason != batchv1.JobReasonBackoffLimitExceeded {
			t.Errorf("Failed condition = %+v", cond)
		}
		if got := batchConditionTypes(job); !slices.Equal(got, []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobFailed}) {
			t.Errorf("conditions = %v", got)
		}
		if job.Status.Failed != 2 || job.Status.CompletionTime != nil {
			t.Errorf("status = %+v", job.Status)
		}
	})

	t.Run("pod failure policy", func(t *testing.T) {
		_, err := jobs.Create(ctx, batchJob("policy", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr.To("main"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42},
				},
			}}}
		}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		batchWait(t, "a pod to fail with 42", func(ctx context.Context) (bool, error) {
			n, err := batchFinishActive(ctx, c, "policy", 42)
			return n > 0, err
		})
		job := batchWaitCondition(t, c, "policy", batchv1.JobFailed)
		cond := batchCondition(job, batchv1.JobFailed)
		if cond.Reason != batchv1.JobReasonPodFailurePolicy || !strings.Contains(cond.Message, "failed with exit code 42 matching FailJob rule at index 0") {
			t.Errorf("Failed condition = %+v", cond)
		}
		if job.Status.Failed != 1 {
			t.Errorf("failed = %d, want 1", job.Status.Failed)
		}
	})

	t.Run("suspend and resume", func(t *testing.T) {
		_, err := jobs.Create(ctx, batchJob("pause", func(j *batchv1.Job) {
			j.Spec.Suspend = ptr.To(true)
			j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](2), ptr.To[int32](2)
		}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		job := batchWaitCondition(t, c, "pause", batchv1.JobSuspended)
		if job.Status.StartTime != nil {
			t.Errorf("a job created suspended has startTime %v", job.Status.StartTime)
		}
		setSuspend := func(suspend bool) {
			t.Helper()
			patch := fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend)
			if _, err := jobs.Patch(ctx, "pause", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		activePods := func(want int) func(ctx context.Context) (bool, error) {
			return func(ctx context.Context) (bool, error) {
				pods, err := batchPods(ctx, c, "pause")
				return err == nil && len(pods) == want && len(batchActive(pods)) == want, err
			}
		}
		if pods, err := batchPods(ctx, c, "pause"); err != nil || len(pods) != 0 {
			t.Fatalf("suspended job has pods %v (%v)", pods, err)
		}
		setSuspend(false)
		batchWait(t, "two pods after resuming", activePods(2))
		job, err = jobs.Get(ctx, "pause", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if job.Status.StartTime == nil || batchCondition(job, batchv1.JobSuspended) != nil {
			t.Errorf("resumed job: startTime %v, conditions %+v", job.Status.StartTime, job.Status.Conditions)
		}
		setSuspend(true)
		batchWait(t, "pods gone after suspending", activePods(0))
		batchWait(t, "status of the suspended job", func(ctx context.Context) (bool, error) {
			job, err := jobs.Get(ctx, "pause", metav1.GetOptions{})
			return err == nil && job.Status.Active == 0 && batchCondition(job, batchv1.JobSuspended) != nil, err
		})
		setSuspend(false)
		batchWait(t, "pause to complete", func(ctx context.Context) (bool, error) {
			job, err := jobs.Get(ctx, "pause", metav1.GetOptions{})
			if err != nil || batchCondition(job, batchv1.JobComplete) != nil {
				return err == nil, err
			}
			_, err = batchFinishActive(ctx, c, "pause", 0)
			return false, err
		})
		if job, err = jobs.Get(ctx, "pause", metav1.GetOptions{}); err != nil || job.Status.Failed != 0 || job.Status.Succeeded != 2 {
			t.Errorf("final status %+v (%v): pods deleted by suspension must not count as failed", job.Status, err)
		}
	})

	t.Run("ttl after finished", func(t *testing.T) {
		if _, err := jobs.Create(ctx, batchJob("shortlived", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](1) }), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		batchWait(t, "shortlived to be deleted", func(ctx context.Context) (bool, error) {
			_, err := jobs.Get(ctx, "shortlived", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			if err != nil {
				return false, err
			}
			_, err = batchFinishActive(ctx, c, "shortlived", 0)
			return false, err
		})
		batchWait(t, "shortlived's pods to be collected", func(ctx context.Context) (bool, error) {
			pods, err := batchPods(ctx, c, "shortlived")
			return err == nil && len(pods) == 0, err
		})
	})
}

func TestCronJobs(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	cronJobs := c.BatchV1().CronJobs(batchNS)
	newCronJob := func(name, schedule string) *batchv1.CronJob {
		return &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: batchNS},
			Spec: batchv1.CronJobSpec{Schedule: schedule, TimeZone: ptr.To("UTC"), JobTemplate: batchv1.JobTemplateSpec{
				Spec: batchJob("", nil).Spec,
			}},
		}
	}

	t.Run("kubectl create job --from", func(t *testing.T) {
		if _, err := cronJobs.Create(ctx, newCronJob("yearly", "@yearly"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "create", "job", "by-hand", "--from=cronjob/yearly")
		if err != nil {
			t.Fatalf("kubectl create job: %v\n%s", err, out)
		}
		job, err := c.BatchV1().Jobs(batchNS).Get(ctx, "by-hand", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ref := metav1.GetControllerOf(job); ref == nil || ref.Kind != "CronJob" || ref.Name != "yearly" {
			t.Errorf("owner of by-hand = %+v", ref)
		}
		batchWait(t, "by-hand to start a pod", func(ctx context.Context) (bool, error) {
			pods, err := batchPods(ctx, c, "by-hand")
			return err == nil && len(pods) == 1, err
		})
	})

	t.Run("every minute", func(t *testing.T) {
		cj, err := cronJobs.Create(ctx, newCronJob("minutely", "* * * * *"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Rather than wait for the next minute, pretend the last run was
		// three minutes ago: the controller starts the most recent missed
		// run at once.
		past := metav1.NewTime(time.Now().Add(-3 * time.Minute).Truncate(time.Minute))
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cj, err = cronJobs.Get(ctx, "minutely", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cj.Status.LastScheduleTime != nil {
				return nil // a minute went by and it ran already
			}
			cj.Status.LastScheduleTime = &past
			_, err = cronJobs.UpdateStatus(ctx, cj, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		batchWait(t, "minutely to start a job", func(ctx context.Context) (bool, error) {
			cj, err = cronJobs.Get(ctx, "minutely", metav1.GetOptions{})
			return err == nil && len(cj.Status.Active) == 1 && cj.Status.LastScheduleTime.After(past.Time), err
		})
		ref := cj.Status.Active[0]
		want := fmt.Sprintf("minutely-%d", cj.Status.LastScheduleTime.Unix()/60)
		if ref.Name != want || ref.Kind != "Job" {
			t.Errorf("active = %+v, want job %s", ref, want)
		}
		job, err := c.BatchV1().Jobs(batchNS).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation], cj.Status.LastScheduleTime.UTC().Format(time.RFC3339); got != want {
			t.Errorf("scheduled-timestamp = %q, want %q", got, want)
		}
		// Completing the job is seen in the cron job's status.
		batchWait(t, "the job to complete", func(ctx context.Context) (bool, error) {
			job, err := c.BatchV1().Jobs(batchNS).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil || batchCondition(job, batchv1.JobComplete) != nil {
				return err == nil, err
			}
			_, err = batchFinishActive(ctx, c, ref.Name, 0)
			return false, err
		})
		batchWait(t, "lastSuccessfulTime", func(ctx context.Context) (bool, error) {
			cj, err := cronJobs.Get(ctx, "minutely", metav1.GetOptions{})
			return err == nil && cj.Status.LastSuccessfulTime != nil && !slices.ContainsFunc(cj.Status.Active,
				func(r corev1.ObjectReference) bool { return r.Name == ref.Name }), err
		})
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "get", "cronjob", "minutely")
		if err != nil || !strings.Contains(out, "* * * * *") {
			t.Errorf("kubectl get cronjob: %v\n%s", err, out)
		}
	})
}
