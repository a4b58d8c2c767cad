package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestUIDInAWriteIsAPrecondition checks that a write naming another uid
// (the object was deleted and re-created meanwhile) is refused with 409, on
// the main resource and on status, and that the right uid is accepted.
func TestUIDInAWriteIsAPrecondition(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	cm, err := s.Client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := `{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"},"data":{"a":"c"}}`
	_, err = s.Client.CoreV1().ConfigMaps("default").Patch(ctx, "c", types.MergePatchType, []byte(wrong), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "Precondition failed: UID in precondition") {
		t.Errorf("patch with another uid: err = %v, want 409 Precondition failed", err)
	}
	right := `{"metadata":{"uid":"` + string(cm.UID) + `"},"data":{"a":"c"}}`
	if _, err := s.Client.CoreV1().ConfigMaps("default").Patch(ctx, "c", types.MergePatchType, []byte(right), metav1.PatchOptions{}); err != nil {
		t.Errorf("patch with the object's uid: %v", err)
	}
	pod, err := s.Client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := `{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"},"status":{"phase":"Running"}}`
	_, err = s.Client.CoreV1().Pods("default").Patch(ctx, "p", types.MergePatchType, []byte(status), metav1.PatchOptions{}, "status")
	if !apierrors.IsConflict(err) {
		t.Errorf("status patch with another uid: err = %v, want 409", err)
	}
	if got, _ := s.Client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{}); got.Status.Phase == corev1.PodRunning || got.UID != pod.UID {
		t.Errorf("the refused status patch was applied: phase %s", got.Status.Phase)
	}
}
