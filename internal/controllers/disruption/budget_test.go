package disruption

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDesired(t *testing.T) {
	scale := func(n int32) func() (int32, error) { return func() (int32, error) { return n, nil } }
	intOrPct := func(v intstr.IntOrString) *intstr.IntOrString { return &v }
	tests := []struct {
		name    string
		spec    policyv1.PodDisruptionBudgetSpec
		pods    int32
		scale   func() (int32, error)
		want    Counts
		wantErr bool
	}{
		{name: "minAvailable int counts pods", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOrPct(intstr.FromInt32(2))},
			pods: 3, scale: func() (int32, error) { return 0, errors.New("not called") }, want: Counts{Expected: 3, Desired: 2}},
		{name: "minAvailable percent rounds up", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOrPct(intstr.FromString("50%"))},
			pods: 2, scale: scale(5), want: Counts{Expected: 5, Desired: 3}},
		{name: "maxUnavailable int", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOrPct(intstr.FromInt32(1))},
			scale: scale(4), want: Counts{Expected: 4, Desired: 3}},
		{name: "maxUnavailable percent rounds up", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOrPct(intstr.FromString("30%"))},
			scale: scale(5), want: Counts{Expected: 5, Desired: 3}},
		{name: "maxUnavailable over scale", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOrPct(intstr.FromInt32(9))},
			scale: scale(4), want: Counts{Expected: 4, Desired: 0}},
		{name: "percent without controllers", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOrPct(intstr.FromString("50%"))},
			scale: func() (int32, error) { return 0, errors.New("no controller") }, wantErr: true},
		{name: "bad percent", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOrPct(intstr.FromString("half"))},
			scale: scale(4), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Desired(tt.spec, tt.pods, tt.scale)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" && !tt.wantErr {
				t.Errorf("Desired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHealthyAndStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	mk := func(name string, ready bool, deleting bool) *corev1.Pod {
		s := corev1.ConditionFalse
		if ready {
			s = corev1.ConditionTrue
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: s}}}}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{Time: now}
		}
		return p
	}
	pods := []*corev1.Pod{mk("a", true, false), mk("b", true, false), mk("c", false, false), mk("d", true, true), mk("e", true, false)}
	disrupted := map[string]metav1.Time{
		"b":    metav1.NewTime(now.Add(-time.Minute)),     // still in force
		"e":    metav1.NewTime(now.Add(-3 * time.Minute)), // expired: counts again
		"gone": metav1.NewTime(now),                       // no such pod
	}
	healthy, kept, next := Healthy(pods, disrupted, now)
	if healthy != 2 {
		t.Errorf("healthy = %d, want 2 (a, e)", healthy)
	}
	if diff := cmp.Diff(map[string]metav1.Time{"b": disrupted["b"]}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if want := now.Add(time.Minute); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next, want)
	}

	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	tests := []struct {
		name        string
		counts      Counts
		healthy     int32
		wantAllowed int32
		wantReason  string
	}{
		{name: "sufficient", counts: Counts{Expected: 3, Desired: 1}, healthy: 3, wantAllowed: 2, wantReason: policyv1.SufficientPodsReason},
		{name: "exactly met", counts: Counts{Expected: 3, Desired: 2}, healthy: 2, wantAllowed: 0, wantReason: policyv1.InsufficientPodsReason},
		{name: "below", counts: Counts{Expected: 3, Desired: 2}, healthy: 1, wantAllowed: 0, wantReason: policyv1.InsufficientPodsReason},
		{name: "nothing expected", counts: Counts{Expected: 0, Desired: 0}, healthy: 0, wantAllowed: 0, wantReason: policyv1.InsufficientPodsReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Status(pdb, tt.counts, tt.healthy, nil, now)
			if st.DisruptionsAllowed != tt.wantAllowed || st.ObservedGeneration != 3 || st.CurrentHealthy != tt.healthy ||
				st.DesiredHealthy != tt.counts.Desired || st.ExpectedPods != tt.counts.Expected {
				t.Errorf("status = %+v", st)
			}
			if len(st.Conditions) != 1 || st.Conditions[0].Reason != tt.wantReason {
				t.Errorf("conditions = %+v, want reason %s", st.Conditions, tt.wantReason)
			}
		})
	}
	failed := FailedStatus(pdb, errors.New("boom"), now)
	if failed.DisruptionsAllowed != 0 || failed.Conditions[0].Reason != policyv1.SyncFailedReason || failed.Conditions[0].Message != "boom" {
		t.Errorf("failed status = %+v", failed)
	}
}
