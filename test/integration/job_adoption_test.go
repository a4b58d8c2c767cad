package integration

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestJobAdoption: a Job adopts a matching pod that lost its controller
// reference, and releases one whose labels stop matching, as the
// conformance spec "should adopt matching orphans and release non-matching
// pods" expects.
func TestJobAdoption(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	job, err := c.BatchV1().Jobs(batchNS).Create(ctx, batchJob("adopter", func(j *batchv1.Job) {
		j.Spec.Parallelism = ptr.To[int32](2)
	}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pods []corev1.Pod
	batchWait(t, "two pods", func(ctx context.Context) (bool, error) {
		pods, err = batchPods(ctx, c, job.Name)
		return len(pods) == 2, err
	})
	controlledBy := func(name string) types.UID {
		pod, err := c.CoreV1().Pods(batchNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		if ref := metav1.GetControllerOf(pod); ref != nil {
			return ref.UID
		}
		return ""
	}
	orphan := pods[0].Name
	if _, err := c.CoreV1().Pods(batchNS).Patch(ctx, orphan, types.MergePatchType,
		[]byte(`{"metadata":{"ownerReferences":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	batchWait(t, "the orphan adopted again", func(context.Context) (bool, error) {
		return controlledBy(orphan) == job.UID, nil
	})
	released := pods[1].Name
	patch := `{"metadata":{"labels":{"` + batchv1.JobNameLabel + `":"other","controller-uid":null,"` + batchv1.ControllerUidLabel + `":null}}}`
	if _, err := c.CoreV1().Pods(batchNS).Patch(ctx, released, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	batchWait(t, "the relabelled pod released", func(context.Context) (bool, error) {
		return controlledBy(released) == "", nil
	})
}
