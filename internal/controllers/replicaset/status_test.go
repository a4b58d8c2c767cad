package replicaset

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func withLabels(l map[string]string) podOpt { return func(p *corev1.Pod) { p.Labels = l } }

func TestCalculateStatus(t *testing.T) {
	now := t0.Add(time.Hour)
	full := map[string]string{"app": "web", "tier": "front"}
	partial := map[string]string{"app": "web"}
	failure := appsv1.ReplicaSetCondition{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
		Message: "old message", LastTransitionTime: metav1.NewTime(t0),
	}
	tests := []struct {
		name       string
		minReady   int32
		conditions []appsv1.ReplicaSetCondition
		pods       podSet
		err        error
		diff       int
		want       appsv1.ReplicaSetStatus
		wantWait   time.Duration
	}{
		{
			name: "counts labels, readiness and availability",
			pods: podSet{active: withAllFacts([]*corev1.Pod{
				testPod("a", withLabels(full), readySince(now.Add(-time.Minute))),
				testPod("b", withLabels(partial), readySince(now)),
				testPod("c", withLabels(full)),
			}), terminating: 2},
			want: appsv1.ReplicaSetStatus{
				Replicas: 3, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
				ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](2),
			},
		},
		{
			name:     "minReadySeconds holds back recently ready pods",
			minReady: 30,
			pods: podSet{active: withAllFacts([]*corev1.Pod{
				testPod("long", withLabels(full), readySince(now.Add(-time.Minute))),
				testPod("soon", withLabels(full), readySince(now.Add(-20*time.Second))),
				testPod("later", withLabels(full), readySince(now.Add(-5*time.Second))),
			})},
			want: appsv1.ReplicaSetStatus{
				Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 1,
				ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](0),
			},
			wantWait: 10 * time.Second,
		},
		{
			name: "create failure sets ReplicaFailure",
			err:  errors.New("exceeded quota"), diff: -2,
			want: appsv1.ReplicaSetStatus{
				ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](0),
				Conditions: []appsv1.ReplicaSetCondition{{
					Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
					Message: "exceeded quota", LastTransitionTime: metav1.NewTime(now),
				}},
			},
		},
		{
			name: "delete failure", err: errors.New("boom"), diff: 1,
			want: appsv1.ReplicaSetStatus{
				ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](0),
				Conditions: []appsv1.ReplicaSetCondition{{
					Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedDelete",
					Message: "boom", LastTransitionTime: metav1.NewTime(now),
				}},
			},
		},
		{
			name: "existing failure is kept as is", err: errors.New("new message"), diff: -1,
			conditions: []appsv1.ReplicaSetCondition{failure},
			want: appsv1.ReplicaSetStatus{
				ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](0),
				Conditions: []appsv1.ReplicaSetCondition{failure},
			},
		},
		{
			name: "success clears the failure", conditions: []appsv1.ReplicaSetCondition{failure},
			want: appsv1.ReplicaSetStatus{ObservedGeneration: 4, TerminatingReplicas: ptr.To[int32](0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Generation: 4},
				Spec: appsv1.ReplicaSetSpec{
					MinReadySeconds: tt.minReady,
					Template:        corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: full}},
				},
				Status: appsv1.ReplicaSetStatus{Conditions: tt.conditions},
			}
			got, wait := calculateStatus(rs, tt.pods, tt.err, tt.diff, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if wait != tt.wantWait {
				t.Errorf("wait = %v, want %v", wait, tt.wantWait)
			}
		})
	}
}

func TestRequiresAll(t *testing.T) {
	template := map[string]string{"app": "web", "pod-template-hash": "5d4f"}
	tests := []struct {
		name string
		sel  *metav1.LabelSelector
		want bool
	}{
		{"no selector", nil, false},
		{"a Deployment's set: the same labels", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "5d4f"}}, true},
		{"more labels than the template", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "5d4f", "x": "y"}}, true},
		{"a template label not required", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, false},
		{"another value", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "other"}}, false},
		{"expressions only", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}},
			{Key: "pod-template-hash", Operator: metav1.LabelSelectorOpIn, Values: []string{"5d4f"}},
		}}, false},
	}
	for _, tt := range tests {
		if got := requiresAll(tt.sel, template); got != tt.want {
			t.Errorf("%s: requiresAll = %v, want %v", tt.name, got, tt.want)
		}
	}
}
