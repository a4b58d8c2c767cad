package deployment

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// calculateStatus derives d's status from its ReplicaSets, keeping its
// conditions and collision count, and sets Available by whether at most
// maxUnavailable pods are missing.
func calculateStatus(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	avail := sumStatus(all, available)
	s := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(all, statusReplicas),
		ReadyReplicas:       sumStatus(all, readyReplicas),
		AvailableReplicas:   avail,
		UnavailableReplicas: max(specReplicas(all)-avail, 0),
		TerminatingReplicas: ptr.To(sumStatus(all, terminating)),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if newRS != nil {
		s.UpdatedReplicas = newRS.Status.Replicas
	}
	if avail >= desired(d)-maxUnavailable(d) {
		setCondition(&s, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, reasonMinAvailable,
			"Deployment has minimum availability.", now))
	} else {
		setCondition(&s, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, reasonMinUnavailable,
			"Deployment does not have minimum availability.", now))
	}
	return s
}

// complete reports whether status shows d fully rolled out: every replica
// updated and available, nothing old left, and the latest spec observed.
func complete(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	n := desired(d)
	return s.UpdatedReplicas == n && s.Replicas == n && s.AvailableReplicas == n &&
		s.ObservedGeneration >= d.Generation
}

// progressing reports whether next moved the rollout forward from the
// status d had: more updated, ready or available pods, or fewer old ones.
func progressing(d *appsv1.Deployment, next *appsv1.DeploymentStatus) bool {
	prev := &d.Status
	return next.UpdatedReplicas > prev.UpdatedReplicas ||
		next.Replicas-next.UpdatedReplicas < prev.Replicas-prev.UpdatedReplicas ||
		next.ReadyReplicas > prev.ReadyReplicas ||
		next.AvailableReplicas > prev.AvailableReplicas
}

// deadline returns when d's rollout times out, judged from its last
// recorded progress; ok is false when it cannot time out (no deadline, no
// progress recorded, complete, or already timed out).
func deadline(d *appsv1.Deployment, s *appsv1.DeploymentStatus) (time.Time, bool) {
	if !hasProgressDeadline(d) {
		return time.Time{}, false
	}
	c := getCondition(s, appsv1.DeploymentProgressing)
	if c == nil || c.Reason == reasonNewRSAvailable || c.Reason == reasonTimedOut {
		return time.Time{}, false
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second), true
}

// rolloutConditions updates the Progressing condition of next for a
// rolling or recreate sync at now: complete, progressing, or stuck past
// its deadline; and mirrors the first ReplicaSet failure.
func rolloutConditions(d *appsv1.Deployment, next *appsv1.DeploymentStatus, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) {
	if !hasProgressDeadline(d) {
		removeCondition(next, appsv1.DeploymentProgressing)
	}
	cur := getCondition(next, appsv1.DeploymentProgressing)
	done := next.Replicas == next.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable
	if hasProgressDeadline(d) && !done {
		switch {
		case complete(d, next):
			msg := fmt.Sprintf("Deployment %q has successfully progressed.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
			}
			setCondition(next, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSAvailable, msg, now))
		case progressing(d, next):
			msg := fmt.Sprintf("Deployment %q is progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
			}
			c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, msg, now)
			// Progress moves lastUpdateTime (the deadline counts from it)
			// but not the transition time while it stays True.
			if cur != nil && cur.Status == corev1.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(next, appsv1.DeploymentProgressing)
			setCondition(next, c)
		default:
			if at, ok := deadline(d, next); ok && at.Before(now) {
				msg := fmt.Sprintf("Deployment %q has timed out progressing.", d.Name)
				if newRS != nil {
					msg = fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
				}
				setCondition(next, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonTimedOut, msg, now))
			}
		}
	}
	if f := replicaFailure(all, newRS); f != nil {
		setCondition(next, *f)
	} else {
		removeCondition(next, appsv1.DeploymentReplicaFailure)
	}
}

// replicaFailure returns the ReplicaFailure of the new ReplicaSet, else of
// an old one, as a Deployment condition.
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	find := func(rs *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: c.Status, Reason: c.Reason, Message: c.Message,
					LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime,
				}
			}
		}
		return nil
	}
	if newRS != nil {
		if c := find(newRS); c != nil {
			return c
		}
	}
	for _, rs := range all {
		if rs != newRS {
			if c := find(rs); c != nil {
				return c
			}
		}
	}
	return nil
}
