package deployment

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProportionalSizes(t *testing.T) {
	tests := []struct {
		name      string
		d         *appsv1.Deployment
		statusN   int32
		sets      []*appsv1.ReplicaSet
		want      map[string]int32
		wantScale string
	}{
		{
			// 10 → 20 replicas with 25% surge: 13 pods (10+3) become 25.
			name: "scale up mid-rollout",
			d:    rollingDeployment(20, intstr.FromString("25%"), intstr.FromString("25%")),
			sets: []*appsv1.ReplicaSet{testRS("old", 8, annotated(10, 13)), testRS("new", 5, annotated(10, 13), age(time.Hour))},
			want: map[string]int32{"old": 15, "new": 10}, wantScale: "up",
		},
		{
			// 10 → 5 replicas: 13 pods become 7 (5 + 2 surge).
			name: "scale down mid-rollout",
			d:    rollingDeployment(5, intstr.FromString("25%"), intstr.FromString("25%")),
			sets: []*appsv1.ReplicaSet{testRS("old", 8, annotated(10, 13)), testRS("new", 5, annotated(10, 13), age(time.Hour))},
			want: map[string]int32{"old": 4, "new": 3}, wantScale: "down",
		},
		{
			// Each share rounds to nothing; the leftover goes to the first
			// in order, the newest among equals when scaling up.
			name: "leftover to the first",
			d:    rollingDeployment(4, intstr.FromInt32(0), intstr.FromInt32(1)),
			sets: []*appsv1.ReplicaSet{
				testRS("a", 1, annotated(3, 3)), testRS("b", 1, annotated(3, 3), age(time.Hour)),
				testRS("c", 1, annotated(3, 3), age(2*time.Hour)),
			},
			want: map[string]int32{"a": 1, "b": 1, "c": 2}, wantScale: "up",
		},
		{
			name: "to zero",
			d:    rollingDeployment(0, intstr.FromInt32(1), intstr.FromInt32(1)),
			sets: []*appsv1.ReplicaSet{testRS("a", 3, annotated(4, 5)), testRS("b", 2, annotated(4, 5))},
			want: map[string]int32{"a": 0, "b": 0}, wantScale: "down",
		},
		{
			// Without max-replicas annotations the shares are taken of the
			// Deployment's current pod count.
			name:    "no annotations: status replicas",
			d:       rollingDeployment(8, intstr.FromInt32(0), intstr.FromInt32(1)),
			statusN: 4,
			sets:    []*appsv1.ReplicaSet{testRS("a", 2), testRS("b", 2, age(time.Hour))},
			want:    map[string]int32{"a": 4, "b": 4}, wantScale: "up",
		},
		{
			name: "nothing to do",
			d:    rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(1)),
			sets: []*appsv1.ReplicaSet{testRS("a", 2, annotated(4, 5)), testRS("b", 3, annotated(4, 5))},
			want: map[string]int32{"a": 2, "b": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Status.Replicas = tt.statusN
			got, op := proportionalSizes(tt.d, tt.sets)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sizes (-want +got):\n%s", diff)
			}
			if op != tt.wantScale {
				t.Errorf("operation = %q, want %q", op, tt.wantScale)
			}
		})
	}
}
