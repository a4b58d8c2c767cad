package admission

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPriority(t *testing.T) {
	never := corev1.PreemptNever
	lower := corev1.PreemptLowerPriority
	high := schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
	quiet := schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, Value: 500, PreemptionPolicy: &never}
	def := schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Value: 7, GlobalDefault: true}
	i32 := func(v int32) *int32 { return &v }
	tests := []struct {
		name      string
		classes   []schedulingv1.PriorityClass
		spec      corev1.PodSpec
		want      corev1.PodSpec
		forbidden bool
	}{
		{"no class and no default gives 0", nil, corev1.PodSpec{},
			corev1.PodSpec{Priority: i32(0), PreemptionPolicy: &lower}, false},
		{"global default applies", []schedulingv1.PriorityClass{high, def}, corev1.PodSpec{},
			corev1.PodSpec{PriorityClassName: "default", Priority: i32(7), PreemptionPolicy: &lower}, false},
		{"named class", []schedulingv1.PriorityClass{high, def}, corev1.PodSpec{PriorityClassName: "high"},
			corev1.PodSpec{PriorityClassName: "high", Priority: i32(1000), PreemptionPolicy: &lower}, false},
		{"class preemption policy", []schedulingv1.PriorityClass{quiet}, corev1.PodSpec{PriorityClassName: "quiet"},
			corev1.PodSpec{PriorityClassName: "quiet", Priority: i32(500), PreemptionPolicy: &never}, false},
		{"matching explicit priority is fine", []schedulingv1.PriorityClass{high}, corev1.PodSpec{PriorityClassName: "high", Priority: i32(1000)},
			corev1.PodSpec{PriorityClassName: "high", Priority: i32(1000), PreemptionPolicy: &lower}, false},
		{"unknown class", nil, corev1.PodSpec{PriorityClassName: "nope"}, corev1.PodSpec{}, true},
		{"priority disagreeing with the class", []schedulingv1.PriorityClass{high}, corev1.PodSpec{PriorityClassName: "high", Priority: i32(1)}, corev1.PodSpec{}, true},
		{"policy disagreeing with the class", []schedulingv1.PriorityClass{quiet}, corev1.PodSpec{PriorityClassName: "quiet", PreemptionPolicy: &lower}, corev1.PodSpec{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: tt.spec}
			p := Priority{List: func(context.Context) ([]schedulingv1.PriorityClass, error) { return tt.classes, nil }}
			err := p.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Object: pod})
			if tt.forbidden {
				if !apierrors.IsForbidden(err) {
					t.Fatalf("err = %v, want Forbidden", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, pod.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSystemPriorityClasses(t *testing.T) {
	got := map[string]int32{}
	for _, c := range SystemPriorityClasses() {
		got[c.Name] = c.Value
	}
	want := map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
