package endpoints

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestIgnoresBudget(t *testing.T) {
	tests := []struct {
		name string
		pod  corev1.Pod
		want bool
	}{
		{name: "running", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}},
		{name: "succeeded", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, want: true},
		{name: "failed", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, want: true},
		{name: "pending", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, want: true},
		{name: "terminating", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ignoresBudget(&tt.pod); got != tt.want {
				t.Errorf("ignoresBudget = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSpendDisruption(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	unready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	budget := func(allowed, current, desired int32, edit ...func(*policyv1.PodDisruptionBudget)) *policyv1.PodDisruptionBudget {
		pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "b", Generation: 1},
			Status: policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, DisruptionsAllowed: allowed, CurrentHealthy: current, DesiredHealthy: desired}}
		for _, e := range edit {
			e(pdb)
		}
		return pdb
	}
	tests := []struct {
		name        string
		pdb         *policyv1.PodDisruptionBudget
		pod         *corev1.Pod
		wantCode    int32 // 0: allowed
		wantNoSpend bool
		wantAllowed int32
	}{
		{name: "allowed", pdb: budget(1, 2, 1), pod: ready, wantAllowed: 0},
		{name: "two allowed", pdb: budget(2, 3, 1), pod: ready, wantAllowed: 1},
		{name: "exhausted", pdb: budget(0, 1, 1), pod: ready, wantCode: 429},
		{name: "not observed yet", pdb: budget(1, 2, 1, func(p *policyv1.PodDisruptionBudget) { p.Generation = 2 }), pod: ready, wantCode: 429},
		{name: "negative", pdb: budget(-1, 2, 1), pod: ready, wantCode: 403},
		{name: "unready with healthy budget", pdb: budget(0, 1, 1), pod: unready, wantNoSpend: true},
		{name: "unready with unhealthy budget", pdb: budget(0, 0, 1), pod: unready, wantCode: 429},
		{name: "unready always allowed", pdb: budget(0, 0, 1, func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptr.To(policyv1.AlwaysAllow)
		}), pod: unready, wantNoSpend: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spendDisruption(tt.pdb.DeepCopy(), tt.pod, now)
			switch {
			case tt.wantNoSpend:
				if !errors.Is(err, errNoSpend) {
					t.Fatalf("err = %v, want no spend", err)
				}
			case tt.wantCode != 0:
				var status apierrors.APIStatus
				if !errors.As(err, &status) || status.Status().Code != tt.wantCode {
					t.Fatalf("err = %v, want code %d", err, tt.wantCode)
				}
				if tt.wantCode == 429 && (status.Status().Message != msgViolatesBudget || status.Status().Details.Causes[0].Type != causeDisruptionBudget) {
					t.Errorf("429 = %+v", status.Status())
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if got.Status.DisruptionsAllowed != tt.wantAllowed || !got.Status.DisruptedPods["p"].Time.Equal(now) {
					t.Errorf("status = %+v", got.Status)
				}
			}
		})
	}
}
