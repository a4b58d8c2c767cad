package cronjob

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// harness runs sync by hand against a fake clientset and a fake clock;
// caches show the fake API's objects after refresh.
type harness struct {
	t        *testing.T
	ctx      context.Context
	client   *fake.Clientset
	clock    *testingclock.FakeClock
	c        *Controller
	cronJobs cache.Indexer
	jobs     cache.Indexer
	recorder *events.FakeRecorder
}

func newHarness(t *testing.T, now time.Time) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), client: fake.NewSimpleClientset(),
		clock: testingclock.NewFakeClock(now), recorder: events.NewFakeRecorder(1000)}
	h.client.PrependReactor("create", "jobs", func(action clienttesting.Action) (bool, runtime.Object, error) {
		job := action.(clienttesting.CreateAction).GetObject().(*batchv1.Job)
		job.UID = types.UID("uid-" + job.Name)
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(h.client, 0)
	c, err := New(Config{Client: h.client, CronJobs: factory.Batch().V1().CronJobs(), Jobs: factory.Batch().V1().Jobs(),
		Clock: h.clock, Recorder: h.recorder})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	h.cronJobs = factory.Batch().V1().CronJobs().Informer().GetIndexer()
	h.jobs = factory.Batch().V1().Jobs().Informer().GetIndexer()
	return h
}

func (h *harness) refresh() {
	h.t.Helper()
	cjs, err := h.client.BatchV1().CronJobs(metav1.NamespaceAll).List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var objs []any
	for i := range cjs.Items {
		objs = append(objs, &cjs.Items[i])
	}
	if err := h.cronJobs.Replace(objs, ""); err != nil {
		h.t.Fatal(err)
	}
	jobs, err := h.client.BatchV1().Jobs(metav1.NamespaceAll).List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	objs = nil
	for i := range jobs.Items {
		objs = append(objs, &jobs.Items[i])
	}
	if err := h.jobs.Replace(objs, ""); err != nil {
		h.t.Fatal(err)
	}
}

// sync runs one sync after a refresh and returns the requeue delay.
func (h *harness) sync(name string) time.Duration {
	h.t.Helper()
	h.refresh()
	err := h.c.sync(h.ctx, "default/"+name)
	h.refresh()
	var rq controller.Requeue
	if errors.As(err, &rq) {
		return rq.After
	}
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return 0
}

func (h *harness) create(cj *batchv1.CronJob) *batchv1.CronJob {
	h.t.Helper()
	created, err := h.client.BatchV1().CronJobs("default").Create(h.ctx, cj, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return created
}

func (h *harness) cronJob(name string) *batchv1.CronJob {
	h.t.Helper()
	cj, err := h.client.BatchV1().CronJobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return cj
}

// jobNames lists the API's jobs.
func (h *harness) jobNames() []string {
	h.t.Helper()
	list, err := h.client.BatchV1().Jobs("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, j := range list.Items {
		names = append(names, j.Name)
	}
	slices.Sort(names)
	return names
}

// finishJob marks a job Complete (or Failed) at the clock's time.
func (h *harness) finishJob(name string, cond batchv1.JobConditionType) {
	h.t.Helper()
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	now := metav1.NewTime(h.clock.Now())
	job.Status.StartTime = &now
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: cond, Status: corev1.ConditionTrue})
	if cond == batchv1.JobComplete {
		job.Status.CompletionTime = &now
	}
	if _, err := h.client.BatchV1().Jobs("default").UpdateStatus(h.ctx, job, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func hasEvent(events []string, prefix string) bool {
	return slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, prefix) })
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newCronJob(name, schedule string, edit func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("cj-" + name),
			CreationTimestamp: metav1.NewTime(start)},
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			TimeZone:                   ptr.To("UTC"),
			ConcurrencyPolicy:          batchv1.AllowConcurrent,
			Suspend:                    ptr.To(false),
			SuccessfulJobsHistoryLimit: ptr.To[int32](3),
			FailedJobsHistoryLimit:     ptr.To[int32](1),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}, Annotations: map[string]string{"note": "x"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
				}}},
			},
		},
	}
	if edit != nil {
		edit(cj)
	}
	return cj
}

func minuteName(cj string, t time.Time) string { return fmt.Sprintf("%s-%d", cj, t.Unix()/60) }

func TestFiresEveryMinute(t *testing.T) {
	h := newHarness(t, start.Add(30*time.Second))
	h.create(newCronJob("tick", "* * * * *", nil))
	if after := h.sync("tick"); after != 30*time.Second+scheduleSlack {
		t.Fatalf("requeue %v, want 30.1s", after)
	}
	if names := h.jobNames(); len(names) != 0 {
		t.Fatalf("jobs before the first minute: %v", names)
	}
	var want []string
	for i := 1; i <= 3; i++ {
		h.clock.SetTime(start.Add(time.Duration(i)*time.Minute + scheduleSlack))
		if after := h.sync("tick"); after != time.Minute {
			t.Errorf("minute %d: requeue %v, want 1m", i, after)
		}
		want = append(want, minuteName("tick", start.Add(time.Duration(i)*time.Minute)))
		if diff := cmp.Diff(want, h.jobNames()); diff != "" {
			t.Fatalf("minute %d: jobs (-want +got):\n%s", i, diff)
		}
		h.sync("tick") // a second sync in the same minute starts nothing
		if n := len(h.jobNames()); n != i {
			t.Fatalf("minute %d: %d jobs after a repeated sync", i, n)
		}
	}
	cj := h.cronJob("tick")
	if len(cj.Status.Active) != 3 || !cj.Status.LastScheduleTime.Time.Equal(start.Add(3*time.Minute)) {
		t.Errorf("status = %+v", cj.Status)
	}
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, want[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-03-01T12:01:00Z" {
		t.Errorf("scheduled-timestamp annotation = %q", got)
	}
	if job.Labels["app"] != "tick" || job.Annotations["note"] != "x" {
		t.Errorf("job metadata = %+v", job.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(job); ref == nil || ref.Kind != "CronJob" || ref.UID != "cj-tick" {
		t.Errorf("owner = %+v", ref)
	}
	if ref := cj.Status.Active[0]; ref.Kind != "Job" || ref.APIVersion != "batch/v1" || ref.Name != want[0] {
		t.Errorf("active[0] = %+v", ref)
	}
	if ev := h.events(); !slices.Contains(ev, "Normal SuccessfulCreate Created job "+want[0]) {
		t.Errorf("events %v lack SuccessfulCreate", ev)
	}
}

func TestForbidWaitsForTheActiveJob(t *testing.T) {
	h := newHarness(t, start.Add(time.Minute))
	h.create(newCronJob("forbid", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent }))
	h.sync("forbid")
	first := minuteName("forbid", start.Add(time.Minute))
	h.clock.SetTime(start.Add(2 * time.Minute))
	h.sync("forbid")
	if diff := cmp.Diff([]string{first}, h.jobNames()); diff != "" {
		t.Fatalf("jobs (-want +got):\n%s", diff)
	}
	if ev := h.events(); !hasEvent(ev, "Normal JobAlreadyActive") {
		t.Errorf("events %v lack JobAlreadyActive", ev)
	}
	h.clock.SetTime(start.Add(2*time.Minute + 20*time.Second))
	h.finishJob(first, batchv1.JobComplete)
	h.sync("forbid")
	// The missed 12:02 start runs now that the first job is done.
	want := []string{first, minuteName("forbid", start.Add(2*time.Minute))}
	if diff := cmp.Diff(want, h.jobNames()); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	cj := h.cronJob("forbid")
	if cj.Status.LastSuccessfulTime == nil || !cj.Status.LastSuccessfulTime.Time.Equal(h.clock.Now()) {
		t.Errorf("lastSuccessfulTime = %v", cj.Status.LastSuccessfulTime)
	}
	if len(cj.Status.Active) != 1 || cj.Status.Active[0].Name != want[1] {
		t.Errorf("active = %+v", cj.Status.Active)
	}
	if ev := h.events(); !hasEvent(ev, "Normal SawCompletedJob Saw completed job: "+first+", condition: Complete") {
		t.Errorf("events %v lack SawCompletedJob", ev)
	}
}

func TestReplaceDeletesTheActiveJob(t *testing.T) {
	h := newHarness(t, start.Add(time.Minute))
	h.create(newCronJob("replace", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent }))
	h.sync("replace")
	h.clock.SetTime(start.Add(2 * time.Minute))
	h.sync("replace")
	second := minuteName("replace", start.Add(2*time.Minute))
	if diff := cmp.Diff([]string{second}, h.jobNames()); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if cj := h.cronJob("replace"); len(cj.Status.Active) != 1 || cj.Status.Active[0].Name != second {
		t.Errorf("active = %+v", cj.Status.Active)
	}
}

func TestHistoryLimits(t *testing.T) {
	h := newHarness(t, start.Add(10*time.Minute+30*time.Second))
	h.create(newCronJob("hist", "* * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](2)
		cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
		cj.Spec.Suspend = ptr.To(true)
	}))
	owner := *metav1.NewControllerRef(h.cronJob("hist"), batchv1.SchemeGroupVersion.WithKind("CronJob"))
	for i := 1; i <= 7; i++ {
		name := minuteName("hist", start.Add(time.Duration(i)*time.Minute))
		_, err := h.client.BatchV1().Jobs("default").Create(h.ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", OwnerReferences: []metav1.OwnerReference{owner}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.clock.SetTime(start.Add(time.Duration(i) * time.Minute))
		cond := batchv1.JobComplete
		if i%2 == 0 {
			cond = batchv1.JobFailed
		}
		h.finishJob(name, cond)
	}
	if after := h.sync("hist"); after != 0 {
		t.Errorf("a suspended cron job requeued after %v", after)
	}
	// Complete: 1, 3, 5, 7 → keep 5 and 7; failed: 2, 4, 6 → keep 6.
	want := []string{
		minuteName("hist", start.Add(5*time.Minute)),
		minuteName("hist", start.Add(6*time.Minute)),
		minuteName("hist", start.Add(7*time.Minute)),
	}
	if diff := cmp.Diff(want, h.jobNames()); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

func TestStartingDeadline(t *testing.T) {
	h := newHarness(t, start.Add(3*time.Hour+30*time.Second))
	h.create(newCronJob("late", "0 * * * *", func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To[int64](10) }))
	h.sync("late")
	if names := h.jobNames(); len(names) != 0 {
		t.Errorf("a start 30s late with a 10s deadline ran: %v", names)
	}
	h.clock.SetTime(start.Add(4*time.Hour + 5*time.Second))
	h.sync("late")
	if diff := cmp.Diff([]string{minuteName("late", start.Add(4*time.Hour))}, h.jobNames()); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

func TestTooManyMissedStartsTheLatest(t *testing.T) {
	h := newHarness(t, start.Add(72*time.Hour+30*time.Second))
	h.create(newCronJob("backlog", "* * * * *", nil))
	h.sync("backlog")
	if diff := cmp.Diff([]string{minuteName("backlog", start.Add(72*time.Hour))}, h.jobNames()); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if ev := h.events(); !slices.Contains(ev, "Warning TooManyMissedTimes too many missed start times: 4320. "+
		"Set or decrease .spec.startingDeadlineSeconds or check clock skew") {
		t.Errorf("events %v lack TooManyMissedTimes", ev)
	}
}

func TestTimeZone(t *testing.T) {
	// 2026-03-02 14:30 UTC is 09:30 in New York (EST, UTC-5).
	h := newHarness(t, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	h.create(newCronJob("ny", "0 9 * * *", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("America/New_York") }))
	after := h.sync("ny")
	scheduled := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	if diff := cmp.Diff([]string{minuteName("ny", scheduled)}, h.jobNames()); diff != "" {
		t.Fatalf("jobs (-want +got):\n%s", diff)
	}
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, minuteName("ny", scheduled), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-03-02T09:00:00-05:00" {
		t.Errorf("scheduled-timestamp = %q", got)
	}
	if want := 23*time.Hour + 30*time.Minute + scheduleSlack; after != want {
		t.Errorf("requeue %v, want %v", after, want)
	}
}

func TestBadTimeZoneAndSchedule(t *testing.T) {
	h := newHarness(t, start.Add(5*time.Minute))
	h.create(newCronJob("tz", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus") }))
	h.create(newCronJob("sched", "61 * * * *", nil))
	if after := h.sync("tz"); after != 0 {
		t.Errorf("requeue %v for an unknown time zone", after)
	}
	if after := h.sync("sched"); after != 0 {
		t.Errorf("requeue %v for an invalid schedule", after)
	}
	ev := h.events()
	if !hasEvent(ev, `Warning UnknownTimeZone invalid timeZone: "Mars/Olympus"`) || !hasEvent(ev, "Warning InvalidSchedule invalid schedule: 61 * * * *") {
		t.Errorf("events = %v", ev)
	}
	if n := len(h.jobNames()); n != 0 {
		t.Errorf("%d jobs created", n)
	}
}

func TestActiveJobDeletedElsewhere(t *testing.T) {
	h := newHarness(t, start.Add(time.Minute))
	h.create(newCronJob("lost", "0 0 1 1 *", nil))
	cj := h.cronJob("lost")
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Name: "lost-1", UID: "gone"}}
	if _, err := h.client.BatchV1().CronJobs("default").UpdateStatus(h.ctx, cj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync("lost")
	if got := h.cronJob("lost").Status.Active; len(got) != 0 {
		t.Errorf("active = %+v, want the missing job dropped", got)
	}
}
