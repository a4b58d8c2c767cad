package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// calculateStatus derives rs's status from its pods at now. manageErr is
// the error of this sync's create or delete round, reported as the
// ReplicaFailure condition; diff tells which of the two failed. It also
// returns how long until the next not-yet-available ready pod becomes
// available (0 when none waits).
func calculateStatus(rs *appsv1.ReplicaSet, pods podSet, manageErr error, diff int, now time.Time) (appsv1.ReplicaSetStatus, time.Duration) {
	status := appsv1.ReplicaSetStatus{
		Replicas:            int32(len(pods.active)),
		ObservedGeneration:  rs.Generation,
		TerminatingReplicas: ptr.To(pods.terminating),
	}
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	// Active pods matched the selector; when it requires every template
	// label (a Deployment's sets), they all carry them, and a set of
	// 30,000 pods is not matched twice per sync.
	allLabeled := requiresAll(rs.Spec.Selector, rs.Spec.Template.Labels)
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	var wait time.Duration
	for i := range pods.active {
		if allLabeled || templateLabels.Matches(labels.Set(pods.active[i].Obj.Labels)) {
			status.FullyLabeledReplicas++
		}
		r := &pods.active[i].Facts.rank
		if !r.ready {
			continue
		}
		status.ReadyReplicas++
		left := time.Unix(0, r.readyAt).Add(minReady).Sub(now)
		if minReady == 0 || left <= 0 {
			status.AvailableReplicas++
		} else if wait == 0 || left < wait {
			wait = left
		}
	}
	status.Conditions = failureCondition(rs.Status.Conditions, manageErr, diff, now)
	return status, wait
}

// requiresAll reports whether every object sel selects carries all of
// set's labels: sel's matchLabels hold each of them.
func requiresAll(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return false
	}
	for k, v := range set {
		if w, ok := sel.MatchLabels[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// failureCondition returns conditions with ReplicaFailure set while
// creating or deleting pods fails and removed once it works again. An
// existing failure keeps its time and message, so a persistent error does
// not rewrite status on every retry.
func failureCondition(conditions []appsv1.ReplicaSetCondition, manageErr error, diff int, now time.Time) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	var existing *appsv1.ReplicaSetCondition
	for i := range conditions {
		if conditions[i].Type == appsv1.ReplicaSetReplicaFailure {
			existing = &conditions[i]
			continue
		}
		out = append(out, conditions[i])
	}
	switch {
	case manageErr == nil:
		return out
	case existing != nil:
		return append(out, *existing)
	}
	reason := "FailedCreate"
	if diff > 0 {
		reason = "FailedDelete"
	}
	return append(out, appsv1.ReplicaSetCondition{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: reason,
		Message: manageErr.Error(), LastTransitionTime: metav1.NewTime(now),
	})
}
