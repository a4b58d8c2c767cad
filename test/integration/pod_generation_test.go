package integration

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestPodGeneration: binding a pod leaves its generation alone, a graceful
// deletion counts one, as upstream.
func TestPodGeneration(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) { o.DisableScheduler = true })
	ctx := context.Background()
	pods := s.Client.CoreV1().Pods("default")
	pod, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "gen"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Generation != 1 {
		t.Fatalf("created pod generation %d, want 1", pod.Generation)
	}
	if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "gen"}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if pod, err = pods.Get(ctx, "gen", metav1.GetOptions{}); err != nil || pod.Generation != 1 || pod.Spec.NodeName != "n1" {
		t.Fatalf("after binding: generation %d node %q (%v), want 1 and n1", pod.Generation, pod.Spec.NodeName, err)
	}
	if err := pods.Delete(ctx, "gen", metav1.DeleteOptions{GracePeriodSeconds: new(int64(30))}); err != nil {
		t.Fatal(err)
	}
	if pod, err = pods.Get(ctx, "gen", metav1.GetOptions{}); err != nil || pod.Generation != 2 || pod.DeletionTimestamp == nil {
		t.Fatalf("after a graceful delete: generation %d deletionTimestamp %v (%v), want 2 and set", pod.Generation, pod.DeletionTimestamp, err)
	}
}
