package deployment

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// stepsOf renders planned steps as name→replicas.
func stepsOf(steps []step) map[string]int32 {
	out := map[string]int32{}
	for _, s := range steps {
		out[s.rs.Name] = s.replicas
	}
	return out
}

func TestNewRSReplicas(t *testing.T) {
	surge1 := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1))
	recreate := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1))
	recreate.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	tests := []struct {
		name   string
		d      *appsv1.Deployment
		old    []*appsv1.ReplicaSet
		newRS  *appsv1.ReplicaSet
		expect int32
	}{
		{"start surging", surge1, []*appsv1.ReplicaSet{testRS("old", 4)}, testRS("new", 0), 1},
		{"room after old shrank", surge1, []*appsv1.ReplicaSet{testRS("old", 3)}, testRS("new", 1), 2},
		{"ceiling reached", surge1, []*appsv1.ReplicaSet{testRS("old", 3)}, testRS("new", 2), 2},
		{"never above replicas", surge1, nil, testRS("new", 3), 4},
		{"recreate jumps to replicas", recreate, nil, testRS("new", 0), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newRSReplicas(tt.d, withNew(tt.old, tt.newRS), tt.newRS); got != tt.expect {
				t.Errorf("newRSReplicas = %d, want %d", got, tt.expect)
			}
		})
	}
}

func TestMaxScaleDown(t *testing.T) {
	d := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1)) // at least 3 available
	tests := []struct {
		name  string
		old   *appsv1.ReplicaSet
		newRS *appsv1.ReplicaSet
		want  int32
	}{
		{"new pod not available yet", testRS("old", 4, avail(4)), testRS("new", 1), 1},
		{"new pods available", testRS("old", 3, avail(3)), testRS("new", 2, avail(2)), 2},
		{"new pods all unavailable", testRS("old", 3, avail(3)), testRS("new", 2), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := []*appsv1.ReplicaSet{tt.old, tt.newRS}
			if got := maxScaleDown(d, all, tt.newRS); got != tt.want {
				t.Errorf("maxScaleDown = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUnhealthyCleanup(t *testing.T) {
	old := []*appsv1.ReplicaSet{
		testRS("c-young", 4, age(2*time.Hour)),
		testRS("a-oldest", 3, avail(1)),
		testRS("b-healthy", 2, avail(2), age(time.Hour)),
	}
	steps, total := unhealthyCleanup(old, 3)
	if diff := cmp.Diff(map[string]int32{"a-oldest": 1, "c-young": 3}, stepsOf(steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if total != 3 {
		t.Errorf("total = %d, want 3", total)
	}
}

func TestHealthyScaleDown(t *testing.T) {
	d := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1)) // at least 3 available
	tests := []struct {
		name string
		old  []*appsv1.ReplicaSet
		new  *appsv1.ReplicaSet
		want map[string]int32
	}{
		{
			name: "down to the availability floor, oldest first",
			old:  []*appsv1.ReplicaSet{testRS("b", 2, avail(2), age(time.Hour)), testRS("a", 2, avail(2))},
			new:  testRS("new", 2, avail(2)),
			want: map[string]int32{"a": 0, "b": 1},
		},
		{
			name: "at the floor",
			old:  []*appsv1.ReplicaSet{testRS("a", 3, avail(3))},
			new:  testRS("new", 1),
			want: map[string]int32{},
		},
		{
			// Status still counts 4 available after a scale-down to 2:
			// only 2 may count, or the rollout would overshoot.
			name: "stale status is capped by spec",
			old: []*appsv1.ReplicaSet{func() *appsv1.ReplicaSet {
				rs := testRS("a", 2, avail(4))
				return rs
			}()},
			new:  testRS("new", 2, avail(2)),
			want: map[string]int32{"a": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stepsOf(healthyScaleDown(d, withNew(tt.old, tt.new), tt.old))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActiveOrLatest(t *testing.T) {
	tests := []struct {
		name  string
		newRS *appsv1.ReplicaSet
		old   []*appsv1.ReplicaSet
		want  string
	}{
		{"only the new one has pods", testRS("new", 3), []*appsv1.ReplicaSet{testRS("old", 0)}, "new"},
		{"only an old one has pods", testRS("new", 0), []*appsv1.ReplicaSet{testRS("old", 2)}, "old"},
		{"nothing has pods: the new one", testRS("new", 0), []*appsv1.ReplicaSet{testRS("old", 0)}, "new"},
		{"nothing has pods, no new: the newest old", nil, []*appsv1.ReplicaSet{
			testRS("older", 0), testRS("newer", 0, age(time.Hour)),
		}, "newer"},
		{"several have pods", testRS("new", 1), []*appsv1.ReplicaSet{testRS("old", 1)}, ""},
		{"nothing at all", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if rs := activeOrLatest(tt.newRS, tt.old); rs != nil {
				got = rs.Name
			}
			if got != tt.want {
				t.Errorf("activeOrLatest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScalingEventAndSaturation(t *testing.T) {
	d := rollingDeployment(5, intstr.FromInt32(1), intstr.FromInt32(0))
	if !scalingEvent(d, testRS("new", 3, annotated(3, 4)), nil) {
		t.Error("resize from 3 to 5 not seen as a scaling event")
	}
	if scalingEvent(d, testRS("new", 3, annotated(5, 6)), []*appsv1.ReplicaSet{testRS("old", 0, annotated(3, 4))}) {
		t.Error("an inactive ReplicaSet's stale annotation counted as a scaling event")
	}
	if !saturated(d, testRS("new", 5, annotated(5, 6), avail(5))) {
		t.Error("full, available ReplicaSet not saturated")
	}
	if saturated(d, testRS("new", 5, annotated(5, 6), avail(4))) {
		t.Error("ReplicaSet with an unavailable pod saturated")
	}
}
