package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestAdmissionFieldsBelongToNoManager checks that what admission adds to
// a created pod (the service account's token volume and mount, the
// default tolerations) is not recorded as the client's, as in Kubernetes:
// otherwise a server-side apply that does not repeat them would remove
// them. The apply is repeated to show the volume stays.
func TestAdmissionFieldsBelongToNoManager(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := s.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal("no default service account:", err)
	}
	created, err := s.Client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "created"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{FieldManager: "creator"})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Spec.Volumes) != 1 || !strings.HasPrefix(created.Spec.Volumes[0].Name, "kube-api-access-") || len(created.Spec.Tolerations) == 0 {
		t.Fatalf("admission did not add the token volume and tolerations: %+v", created.Spec)
	}
	fields := created.ManagedFields[0].FieldsV1.GetRawString()
	for _, admitted := range []string{"kube-api-access-", "f:volumeMounts", "f:tolerations", "f:serviceAccountName"} {
		if strings.Contains(fields, admitted) {
			t.Errorf("the creator's fields hold %s, which admission added: %s", admitted, fields)
		}
	}

	apply := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"applied"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`)
	for range 2 {
		pod, err := s.Client.CoreV1().Pods("default").Patch(ctx, "applied", types.ApplyPatchType, apply, metav1.PatchOptions{FieldManager: "applier"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pod.Spec.Volumes) != 1 || len(pod.Spec.Containers[0].VolumeMounts) != 1 {
			t.Fatalf("the token volume went with a repeated apply: volumes %v, mounts %v", pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts)
		}
	}
}

// TestManagedFieldsKeyListsAsKubernetes checks list items are keyed as
// Kubernetes keys them, by all their keys (a Service port by port and
// protocol), as the conformance test "ServerSideApply should create an
// applied object if it does not already exist" expects.
func TestManagedFieldsKeyListsAsKubernetes(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	apply := []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},` +
		`"spec":{"ports":[{"port":8080,"protocol":"UDP"}]}}`)
	svc, err := s.Client.CoreV1().Services("default").Patch(ctx, "svc", types.ApplyPatchType, apply, metav1.PatchOptions{FieldManager: "applier"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"f:spec":{"f:ports":{"k:{\"port\":8080,\"protocol\":\"UDP\"}":{".":{},"f:port":{},"f:protocol":{}}}}}`
	if len(svc.ManagedFields) != 1 || svc.ManagedFields[0].FieldsV1.GetRawString() != want {
		t.Fatalf("managed fields %+v, want one entry %s", svc.ManagedFields, want)
	}
}
