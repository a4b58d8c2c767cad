package integration

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestPriorityClasses checks the built-in system classes and that pods get
// their priority from their class at admission.
func TestPriorityClasses(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	for name, value := range map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000} {
		pc, err := s.Client.SchedulingV1().PriorityClasses().Get(ctx, name, metav1.GetOptions{})
		if err != nil || pc.Value != value {
			t.Errorf("PriorityClass %s: %v, value %d", name, err, value)
		}
	}
	if _, err := s.Client.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: "batch-low"}, Value: -10, GlobalDefault: true}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pod, class string
		want       int32
	}{{"defaulted", "", -10}, {"critical", "system-cluster-critical", 2000000000}} {
		created, err := s.Client.CoreV1().Pods("default").Create(ctx, podOfClass(tc.pod, tc.class), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create pod with class %q: %v", tc.class, err)
		}
		if created.Spec.Priority == nil || *created.Spec.Priority != tc.want {
			t.Errorf("class %q: priority %v, want %d", tc.class, created.Spec.Priority, tc.want)
		}
	}
	_, err := s.Client.CoreV1().Pods("default").Create(ctx, podOfClass("bad", "missing"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("pod with an unknown class: err = %v, want Forbidden", err)
	}
}

// podOfClass is a one-container pod named name of PriorityClass class
// ("" for none).
func podOfClass(name, class string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		PriorityClassName: class, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}
