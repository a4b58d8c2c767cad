package job

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons and messages of the conditions this controller sets, as
// kubectl describe shows them.
const (
	reasonSuspended   = "JobSuspended"
	reasonResumed     = "JobResumed"
	messageSuspended  = "Job suspended"
	messageResumed    = "Job resumed"
	messageCompletion = "Reached expected number of succeeded pods"
	messageBackoff    = "Job has reached the specified backoff limit"
	messageDeadline   = "Job was active longer than specified deadline"
	messageMaxFailed  = "Job has exceeded the specified maximal number of failed indexes"
	messageFailedIdx  = "Job has failed indexes"
)

// condition returns the job's condition of type t, or nil.
func condition(status *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// conditionTrue reports whether the job has condition t with status True.
func conditionTrue(status *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(status, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isFinished reports whether the job reached a terminal condition.
func isFinished(job *batchv1.Job) bool {
	return conditionTrue(&job.Status, batchv1.JobComplete) || conditionTrue(&job.Status, batchv1.JobFailed)
}

// setCondition makes condition t have status s, with reason and message
// when it changes, and reports whether it changed. A missing condition is
// not added as False: False only records leaving a state.
func setCondition(status *batchv1.JobStatus, t batchv1.JobConditionType, s corev1.ConditionStatus, reason, message string, now metav1.Time) bool {
	c := condition(status, t)
	switch {
	case c == nil && s == corev1.ConditionFalse:
		return false
	case c == nil:
		status.Conditions = append(status.Conditions, batchv1.JobCondition{
			Type: t, Status: s, Reason: reason, Message: message, LastProbeTime: now, LastTransitionTime: now,
		})
		return true
	case c.Status == s:
		return false
	}
	c.Status, c.Reason, c.Message = s, reason, message
	c.LastProbeTime, c.LastTransitionTime = now, now
	return true
}
