package job

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// A job ends in two stages: first a FailureTarget or SuccessCriteriaMet
// condition records the verdict and the remaining pods are deleted; once
// no pod is running, terminating or uncounted, the terminal Failed or
// Complete condition follows with the same reason and message.

// finishing reports whether the verdict is in.
func finishing(st *batchv1.JobStatus) bool {
	return conditionTrue(st, batchv1.JobFailureTarget) || conditionTrue(st, batchv1.JobSuccessCriteriaMet)
}

// setFailureTarget records a failure verdict unless one is already in.
func (s *state) setFailureTarget(reason, message string) {
	if !finishing(&s.job.Status) {
		setCondition(&s.job.Status, batchv1.JobFailureTarget, corev1.ConditionTrue, reason, message, metav1.NewTime(s.now))
	}
}

// decide handles suspension and reaches a verdict when the job's pods say
// it has failed or succeeded.
func (c *Controller) decide(s *state) {
	job, st := s.job, &s.job.Status
	if finishing(st) {
		return
	}
	now := metav1.NewTime(s.now)
	suspended := ptr.Deref(job.Spec.Suspend, false)
	if suspended {
		if setCondition(st, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, messageSuspended, now) {
			c.recorder.Eventf(job, nil, corev1.EventTypeNormal, "Suspended", "Suspend", messageSuspended)
		}
	} else {
		if setCondition(st, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, messageResumed, now) {
			c.recorder.Eventf(job, nil, corev1.EventTypeNormal, "Resumed", "Resume", messageResumed)
			st.StartTime = &now // the deadline runs afresh
		}
		if st.StartTime == nil {
			st.StartTime = &now
		}
	}
	if reason, message := s.failure(suspended); reason != "" {
		s.setFailureTarget(reason, message)
		return
	}
	if reason, message := s.success(); reason != "" {
		setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, reason, message, now)
	}
}

// failure returns the reason and message of a failure verdict, or "".
func (s *state) failure(suspended bool) (string, string) {
	job, st := s.job, &s.job.Status
	failed := int(st.Failed) + s.uncounted.Len()
	limit := int(ptr.Deref(job.Spec.BackoffLimit, 6))
	if failed > limit || s.restartsExceed(limit) {
		return batchv1.JobReasonBackoffLimitExceeded, messageBackoff
	}
	if maxFailed := job.Spec.MaxFailedIndexes; maxFailed != nil && s.failedIndexes.total() > int(*maxFailed) {
		return batchv1.JobReasonMaxFailedIndexesExceeded, messageMaxFailed
	}
	if s.indexed && s.failedIndexes.total() > 0 && s.completed.total()+s.failedIndexes.total() >= s.completions {
		return batchv1.JobReasonFailedIndexes, messageFailedIdx
	}
	if d := job.Spec.ActiveDeadlineSeconds; d != nil && !suspended && st.StartTime != nil {
		left := st.StartTime.Add(time.Duration(*d) * time.Second).Sub(s.now)
		if left <= 0 {
			return batchv1.JobReasonDeadlineExceeded, messageDeadline
		}
		s.waitFor(left)
	}
	return "", ""
}

// restartsExceed applies the back-off limit to container restarts, which
// are a job's failures when its pods restart in place (OnFailure).
func (s *state) restartsExceed(limit int) bool {
	if s.job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	restarts := 0
	for _, pod := range s.pods {
		if isActive(pod) {
			restarts += restartCount(pod)
		}
	}
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

// success returns the reason and message of a success verdict, or "".
func (s *state) success() (string, string) {
	job, st := s.job, &s.job.Status
	if s.indexed {
		if p := job.Spec.SuccessPolicy; p != nil {
			if i, ok := matchSuccessPolicy(p, s.completed, s.completions); ok {
				return batchv1.JobReasonSuccessPolicy, fmt.Sprintf("Matched rules at index %d", i)
			}
		}
		if s.failedIndexes.total() == 0 && s.completed.total() >= s.completions {
			return batchv1.JobReasonCompletionsReached, messageCompletion
		}
		return "", ""
	}
	succeeded := int(st.Succeeded) + s.uncountedSucceeded.Len()
	if s.completions >= 0 {
		if succeeded >= s.completions {
			return batchv1.JobReasonCompletionsReached, messageCompletion
		}
		return "", ""
	}
	// Without completions, one success ends the job once its other pods
	// are done.
	if succeeded > 0 && s.countActive() == 0 {
		return batchv1.JobReasonCompletionsReached, messageCompletion
	}
	return "", ""
}

func (s *state) countActive() int {
	n := 0
	for _, pod := range s.pods {
		if isActive(pod) {
			n++
		}
	}
	return n
}

// matchSuccessPolicy returns the index of the first rule the completed
// indexes satisfy.
func matchSuccessPolicy(p *batchv1.SuccessPolicy, completed indexSet, completions int) (int, bool) {
	for i, rule := range p.Rules {
		switch {
		case rule.SucceededIndexes != nil:
			want, err := parseIndexSet(*rule.SucceededIndexes, completions)
			if err != nil || want.total() == 0 {
				continue
			}
			got := want.countIn(completed)
			if (rule.SucceededCount != nil && got >= int(*rule.SucceededCount)) ||
				(rule.SucceededCount == nil && got == want.total()) {
				return i, true
			}
		case rule.SucceededCount != nil:
			if completed.total() >= int(*rule.SucceededCount) {
				return i, true
			}
		}
	}
	return 0, false
}

// finish adds the terminal condition once a finishing job has no pod
// left running, terminating or uncounted.
func (c *Controller) finish(s *state) {
	st := &s.job.Status
	if !finishing(st) || s.active > 0 || s.terminating > 0 || s.uncounted.Len() > 0 || s.uncountedSucceeded.Len() > 0 {
		return
	}
	now := metav1.NewTime(s.now)
	if target := condition(st, batchv1.JobFailureTarget); target != nil && target.Status == corev1.ConditionTrue {
		if setCondition(st, batchv1.JobFailed, corev1.ConditionTrue, target.Reason, target.Message, now) {
			c.recorder.Eventf(s.job, nil, corev1.EventTypeWarning, target.Reason, "Fail", target.Message)
		}
		return
	}
	met := condition(st, batchv1.JobSuccessCriteriaMet)
	if setCondition(st, batchv1.JobComplete, corev1.ConditionTrue, met.Reason, met.Message, now) {
		st.CompletionTime = &now
		c.recorder.Eventf(s.job, nil, corev1.EventTypeNormal, "Completed", "Complete", "Job completed")
	}
}
