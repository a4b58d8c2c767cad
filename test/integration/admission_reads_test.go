package integration

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestAdmissionSeesObjectsWrittenJustBefore checks that the admission
// plugins reading from the watch cache (LimitRanger, Priority) see a
// LimitRange or PriorityClass created just before the pod: they wait for
// the cache to hold the server's own writes, not for storage's newest
// revision, and must not miss them.
func TestAdmissionSeesObjectsWrittenJustBefore(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	for i := range 20 {
		ns := fmt.Sprintf("reads-%02d", i)
		if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cpu := resource.MustParse(fmt.Sprintf("%dm", 100+i))
		if _, err := s.Client.CoreV1().LimitRanges(ns).Create(ctx, &corev1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: cpu},
			}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		class := fmt.Sprintf("reads-%02d", i)
		if _, err := s.Client.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{
			ObjectMeta: metav1.ObjectMeta{Name: class}, Value: int32(1000 + i)}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		created, err := s.Client.CoreV1().Pods(ns).Create(ctx, podOfClass("p", class), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("pod with the class %s created just before: %v", class, err)
		}
		if got := created.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; got.Cmp(cpu) != 0 {
			t.Errorf("namespace %s: cpu request %s, want %s from the LimitRange created just before", ns, got.String(), cpu.String())
		}
		if created.Spec.Priority == nil || *created.Spec.Priority != int32(1000+i) {
			t.Errorf("class %s: priority %v, want %d", class, created.Spec.Priority, 1000+i)
		}
	}
}
