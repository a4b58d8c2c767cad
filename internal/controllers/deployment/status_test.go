package deployment

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestCalculateStatus(t *testing.T) {
	d := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1))
	d.Generation = 7
	d.Status.CollisionCount = ptr.To[int32](2)
	now := t0
	oldRS := testRS("old", 2, avail(2))
	oldRS.Status.ReadyReplicas = 2
	oldRS.Status.TerminatingReplicas = ptr.To[int32](1)
	newRS := testRS("new", 2, avail(1))
	newRS.Status.Replicas, newRS.Status.ReadyReplicas = 2, 2

	got := calculateStatus(d, []*appsv1.ReplicaSet{oldRS, newRS}, newRS, now)
	want := appsv1.DeploymentStatus{
		ObservedGeneration: 7, Replicas: 4, UpdatedReplicas: 2, ReadyReplicas: 4, AvailableReplicas: 3,
		UnavailableReplicas: 1, TerminatingReplicas: ptr.To[int32](1), CollisionCount: ptr.To[int32](2),
		Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: reasonMinAvailable,
			Message: "Deployment has minimum availability.", LastUpdateTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	newRS.Status.AvailableReplicas = 0
	got = calculateStatus(d, []*appsv1.ReplicaSet{oldRS, newRS}, newRS, now)
	if c := getCondition(&got, appsv1.DeploymentAvailable); c.Status != corev1.ConditionFalse || c.Reason != reasonMinUnavailable {
		t.Errorf("with 2 of 4 available: Available = %s/%s, want False/%s", c.Status, c.Reason, reasonMinUnavailable)
	}
}

func TestRolloutConditions(t *testing.T) {
	start := t0
	now := t0.Add(time.Minute)
	progressingSince := func(reason string, at time.Time) []appsv1.DeploymentCondition {
		return []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reason, "", at)}
	}
	tests := []struct {
		name       string
		deadline   int32
		prev, next appsv1.DeploymentStatus
		newRS      *appsv1.ReplicaSet
		wantStatus corev1.ConditionStatus
		wantReason string
		// wantTransition is the expected lastTransitionTime, wantUpdate
		// the lastUpdateTime.
		wantTransition, wantUpdate time.Time
	}{
		{
			name: "complete", deadline: 600,
			prev:       appsv1.DeploymentStatus{Conditions: progressingSince(reasonRSUpdated, start)},
			next:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ObservedGeneration: 1},
			newRS:      testRS("web-abc", 3),
			wantStatus: corev1.ConditionTrue, wantReason: reasonNewRSAvailable, wantTransition: start, wantUpdate: now,
		},
		{
			name: "progress moves the update time only", deadline: 600,
			prev:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: progressingSince(reasonRSUpdated, start)},
			next:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 2, ObservedGeneration: 1},
			wantStatus: corev1.ConditionTrue, wantReason: reasonRSUpdated, wantTransition: start, wantUpdate: now,
		},
		{
			name: "stuck within the deadline", deadline: 600,
			prev:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: progressingSince(reasonNewRSCreated, start)},
			next:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, ObservedGeneration: 1},
			wantStatus: corev1.ConditionTrue, wantReason: reasonNewRSCreated, wantTransition: start, wantUpdate: start,
		},
		{
			name: "stuck past the deadline", deadline: 30,
			prev:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: progressingSince(reasonNewRSCreated, start)},
			next:       appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, ObservedGeneration: 1},
			wantStatus: corev1.ConditionFalse, wantReason: reasonTimedOut, wantTransition: now, wantUpdate: now,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rollingDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
			d.Generation = 1
			d.Spec.ProgressDeadlineSeconds = ptr.To(tt.deadline)
			d.Status = tt.prev
			next := tt.next
			next.Conditions = append([]appsv1.DeploymentCondition(nil), tt.prev.Conditions...)
			rolloutConditions(d, &next, nil, tt.newRS, now)
			c := getCondition(&next, appsv1.DeploymentProgressing)
			if c == nil {
				t.Fatal("no Progressing condition")
			}
			if c.Status != tt.wantStatus || c.Reason != tt.wantReason {
				t.Errorf("Progressing = %s/%s, want %s/%s", c.Status, c.Reason, tt.wantStatus, tt.wantReason)
			}
			if !c.LastTransitionTime.Time.Equal(tt.wantTransition) || !c.LastUpdateTime.Time.Equal(tt.wantUpdate) {
				t.Errorf("times: transition %v update %v, want %v and %v", c.LastTransitionTime, c.LastUpdateTime, tt.wantTransition, tt.wantUpdate)
			}
		})
	}
}

func TestRolloutConditionsMirrorsReplicaFailure(t *testing.T) {
	d := rollingDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	newRS := testRS("new", 3)
	newRS.Status.Conditions = []appsv1.ReplicaSetCondition{{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "exceeded quota",
	}}
	var next appsv1.DeploymentStatus
	rolloutConditions(d, &next, []*appsv1.ReplicaSet{newRS}, newRS, t0)
	c := getCondition(&next, appsv1.DeploymentReplicaFailure)
	if c == nil || c.Reason != "FailedCreate" || c.Message != "exceeded quota" {
		t.Fatalf("ReplicaFailure = %+v", c)
	}
	newRS.Status.Conditions = nil
	rolloutConditions(d, &next, []*appsv1.ReplicaSet{newRS}, newRS, t0)
	if c := getCondition(&next, appsv1.DeploymentReplicaFailure); c != nil {
		t.Errorf("ReplicaFailure kept after the failure cleared: %+v", c)
	}
}

func TestDeadline(t *testing.T) {
	d := rollingDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
	s := appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
		newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, "", t0),
	}}
	if at, ok := deadline(d, &s); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("deadline = %v, %v; want %v", at, ok, t0.Add(time.Minute))
	}
	s.Conditions[0].Reason = reasonNewRSAvailable
	if _, ok := deadline(d, &s); ok {
		t.Error("a complete rollout has a deadline")
	}
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](1<<31 - 1)
	s.Conditions[0].Reason = reasonRSUpdated
	if _, ok := deadline(d, &s); ok {
		t.Error("the largest int32 should mean no deadline")
	}
}
