package integration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestDefaultTolerationSecondsOnUpdate checks that the not-ready and
// unreachable tolerations are added on every write of a pod, as upstream
// does: an update or patch that drops them gets them back (so pod
// validation does not refuse it as removing a toleration), and a pod
// created by server-side apply gets them too.
func TestDefaultTolerationSecondsOnUpdate(t *testing.T) {
	// No scheduler: its status write to the pending pod would race the
	// updates below.
	s := testutil.StartServer(t, func(o *server.Options) { o.DisableScheduler = true })
	ctx := context.Background()
	pods := s.Client.CoreV1().Pods("default")
	seconds := int64(300)
	defaults := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds},
	}
	other := corev1.Toleration{Key: "example.com/other", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

	created, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(defaults, created.Spec.Tolerations); diff != "" {
		t.Fatalf("tolerations after create (-want +got):\n%s", diff)
	}

	created.Spec.Tolerations = nil
	updated, err := pods.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update without the default tolerations: %v", err)
	}
	if diff := cmp.Diff(defaults, updated.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations after update (-want +got):\n%s", diff)
	}

	patch := `[{"op":"replace","path":"/spec/tolerations","value":[{"key":"example.com/other","operator":"Exists","effect":"NoSchedule"}]}]`
	patched, err := pods.Patch(ctx, "p", types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("patch replacing the tolerations: %v", err)
	}
	if diff := cmp.Diff(append([]corev1.Toleration{other}, defaults...), patched.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations after patch (-want +got):\n%s", diff)
	}

	applied, err := pods.Apply(ctx, corev1apply.Pod("applied", "default").WithSpec(corev1apply.PodSpec().
		WithContainers(corev1apply.Container().WithName("c").WithImage("busybox"))),
		metav1.ApplyOptions{FieldManager: "test"})
	if err != nil {
		t.Fatalf("apply a new pod: %v", err)
	}
	if diff := cmp.Diff(defaults, applied.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations of a pod created by apply (-want +got):\n%s", diff)
	}
}
