package cronjob

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/cron"
)

// scheduleSlack is added to every wait for the next schedule time, so
// that the sync lands just after it rather than a hair before.
const scheduleSlack = 100 * time.Millisecond

// sync reconciles one cron job: its status against its jobs, its history,
// and the job due now, if any.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	cached, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cj := cached.DeepCopy()
	jobs := c.jobsOf(cj)
	slices.SortFunc(jobs, func(a, b *batchv1.Job) int { return strings.Compare(a.Name, b.Name) })
	if err := c.reconcileActive(ctx, cj, jobs); err != nil {
		return err
	}
	var requeue time.Duration
	var errs []error
	if cj.DeletionTimestamp == nil {
		if requeue, err = c.runSchedule(ctx, cj, jobs); err != nil {
			errs = append(errs, err)
		}
		if err := c.cleanupHistory(ctx, cj, jobs); err != nil {
			errs = append(errs, err)
		}
	}
	if !apiequality.Semantic.DeepEqual(cached.Status, cj.Status) {
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("update status of cron job %s: %w", key, err))
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	if requeue > 0 {
		return controller.Requeue{After: requeue}
	}
	return nil
}

// reconcileActive keeps status.active to the cron job's unfinished jobs and
// status.lastSuccessfulTime to its latest completed one.
func (c *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	st := &cj.Status
	owned := map[string]bool{}
	for _, job := range jobs {
		owned[string(job.UID)] = true
		active := slices.IndexFunc(st.Active, func(r corev1.ObjectReference) bool { return r.UID == job.UID }) >= 0
		finished, cond := finishedCondition(job)
		switch {
		case !active && !finished && startedHere(cj, job):
			// Created by a sync whose status write was lost.
			st.Active = append(st.Active, jobReference(job))
		case !active && !finished:
			c.recorder.Eventf(cj, job, corev1.EventTypeWarning, "UnexpectedJob", "Reconcile",
				"Saw a job that the controller did not create or forgot: %s", job.Name)
		case active && finished:
			st.Active = slices.DeleteFunc(st.Active, func(r corev1.ObjectReference) bool { return r.UID == job.UID })
			c.recorder.Eventf(cj, job, corev1.EventTypeNormal, "SawCompletedJob", "Reconcile",
				"Saw completed job: %s, condition: %v", job.Name, cond)
		}
		if cond == batchv1.JobComplete && job.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || job.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			st.LastSuccessfulTime = job.Status.CompletionTime.DeepCopy()
		}
	}
	// An active job missing from the cache may be one the cache has not
	// seen yet: only the API server can say it is gone.
	var kept []corev1.ObjectReference
	for _, ref := range st.Active {
		if owned[string(ref.UID)] {
			kept = append(kept, ref)
			continue
		}
		job, err := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || (err == nil && job.UID != ref.UID):
			klog.FromContext(ctx).V(4).Info("Active job is gone", "cronJob", klog.KObj(cj), "job", ref.Name)
		case err != nil:
			return fmt.Errorf("get job %s/%s: %w", cj.Namespace, ref.Name, err)
		default:
			kept = append(kept, ref)
		}
	}
	st.Active = kept
	return nil
}

// finishedCondition reports whether the job is finished and how.
func finishedCondition(job *batchv1.Job) (bool, batchv1.JobConditionType) {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true, c.Type
		}
	}
	return false, ""
}

// location is the cron job's time zone: spec.timeZone, or the
// controller's local zone when unset.
func location(cj *batchv1.CronJob) (*time.Location, error) {
	if cj.Spec.TimeZone == nil {
		return time.Local, nil
	}
	return time.LoadLocation(*cj.Spec.TimeZone)
}

// runSchedule starts the job due now, if any, under the concurrency
// policy, and returns how long until the next schedule time.
func (c *Controller) runSchedule(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (time.Duration, error) {
	if ptr.Deref(cj.Spec.Suspend, false) {
		return 0, nil
	}
	loc, err := location(cj)
	if err != nil {
		c.recorder.Eventf(cj, nil, corev1.EventTypeWarning, "UnknownTimeZone", "Schedule",
			"invalid timeZone: %q: %s", ptr.Deref(cj.Spec.TimeZone, ""), err)
		return 0, nil
	}
	sched, err := cron.Parse(cj.Spec.Schedule)
	if err != nil {
		c.recorder.Eventf(cj, nil, corev1.EventTypeWarning, "InvalidSchedule", "Schedule",
			"invalid schedule: %s : %s", cj.Spec.Schedule, err)
		return 0, nil
	}
	now := c.clock.Now().In(loc)
	var requeue time.Duration
	if next := sched.Next(now); !next.IsZero() {
		requeue = next.Sub(now) + scheduleSlack
	}
	earliest := cj.CreationTimestamp.Time
	if last := cj.Status.LastScheduleTime; last != nil {
		earliest = last.Time
	}
	deadline := cj.Spec.StartingDeadlineSeconds
	if deadline != nil {
		if cutoff := now.Add(-time.Duration(*deadline) * time.Second); cutoff.After(earliest) {
			earliest = cutoff
		}
	}
	scheduled, missed := missedTimes(sched, earliest.In(loc), now)
	if scheduled.IsZero() {
		return requeue, nil
	}
	if missed > maxMissed {
		c.recorder.Eventf(cj, nil, corev1.EventTypeWarning, "TooManyMissedTimes", "Schedule",
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	if deadline != nil && scheduled.Add(time.Duration(*deadline)*time.Second).Before(now) {
		c.recorder.Eventf(cj, nil, corev1.EventTypeWarning, "MissSchedule", "Schedule",
			"Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return requeue, nil
	}
	name := jobName(cj, scheduled)
	if slices.ContainsFunc(jobs, func(j *batchv1.Job) bool { return j.Name == name }) ||
		slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.Name == name }) {
		// Started already; the status write may have been lost.
		if last := cj.Status.LastScheduleTime; last == nil || last.Before(&metav1.Time{Time: scheduled}) {
			cj.Status.LastScheduleTime = &metav1.Time{Time: scheduled}
		}
		return requeue, nil
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(cj.Status.Active) > 0 {
			c.recorder.Eventf(cj, nil, corev1.EventTypeNormal, "JobAlreadyActive", "Schedule",
				"Not starting job because prior execution is running and concurrency policy is Forbid")
			return requeue, nil
		}
	case batchv1.ReplaceConcurrent:
		if err := c.replaceActive(ctx, cj); err != nil {
			return requeue, err
		}
	}
	return requeue, c.start(ctx, cj, scheduled, loc)
}

// replaceActive deletes the cron job's active jobs.
func (c *Controller) replaceActive(ctx context.Context, cj *batchv1.CronJob) error {
	for _, ref := range cj.Status.Active {
		if err := c.deleteJob(ctx, cj, ref.Name, ref.UID); err != nil {
			return err
		}
	}
	cj.Status.Active = nil
	return nil
}

// start creates the job for the scheduled time and records it.
func (c *Controller) start(ctx context.Context, cj *batchv1.CronJob, scheduled time.Time, loc *time.Location) error {
	job := newJob(cj, scheduled, loc)
	created, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Created by an earlier sync whose status write was lost, or by
		// someone else: adopt only what this cron job controls.
		existing, getErr := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("get job %s/%s: %w", cj.Namespace, job.Name, getErr)
		}
		if ref := cronJobRef(existing); ref == nil || ref.UID != cj.UID {
			return nil
		}
		created, err = existing, nil
	}
	if err != nil {
		c.recorder.Eventf(cj, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating job: %v", err)
		return fmt.Errorf("create job for cron job %s/%s: %w", cj.Namespace, cj.Name, err)
	}
	c.recorder.Eventf(cj, created, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created job %v", created.Name)
	if finished, _ := finishedCondition(created); !finished &&
		!slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == created.UID }) {
		cj.Status.Active = append(cj.Status.Active, jobReference(created))
	}
	cj.Status.LastScheduleTime = &metav1.Time{Time: scheduled}
	return nil
}
