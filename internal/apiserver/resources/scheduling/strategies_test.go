package scheduling

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func class(name string, value int32) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value}
}

func TestValidate(t *testing.T) {
	s := priorityClassStrategy{}
	for _, tc := range []struct {
		pc    *schedulingv1.PriorityClass
		valid bool
	}{
		{class("high", 1000), true},
		{class("max", HighestUserDefinablePriority), true},
		{class("too-high", HighestUserDefinablePriority+1), false},
		{class("system-cluster-critical", 2000000000), true},
		{class("system-cluster-critical", 5), false},
		{class("system-mine", 5), false},
	} {
		s.Default(tc.pc)
		if errs := s.Validate(context.Background(), tc.pc); (len(errs) == 0) != tc.valid {
			t.Errorf("%s value %d: errors %v, want valid=%v", tc.pc.Name, tc.pc.Value, errs, tc.valid)
		}
	}
}

func TestValidateUpdate(t *testing.T) {
	s := priorityClassStrategy{}
	old := class("high", 1000)
	s.Default(old)
	changedValue := old.DeepCopy()
	changedValue.Value = 2000
	never := corev1.PreemptNever
	changedPolicy := old.DeepCopy()
	changedPolicy.PreemptionPolicy = &never
	described := old.DeepCopy()
	described.Description = "now with words"
	for name, tc := range map[string]struct {
		pc    *schedulingv1.PriorityClass
		valid bool
	}{"value": {changedValue, false}, "preemptionPolicy": {changedPolicy, false}, "description": {described, true}} {
		if errs := s.ValidateUpdate(context.Background(), tc.pc, old); (len(errs) == 0) != tc.valid {
			t.Errorf("changing %s: errors %v, want valid=%v", name, errs, tc.valid)
		}
	}
}
