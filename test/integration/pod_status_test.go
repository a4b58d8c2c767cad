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

// TestPodStatusWrites replays status writes whose answers were compared
// with kube-apiserver's: podIP and podIPs kept in step, invalid addresses
// refused with 422 and the field named, a list replaced by a merge patch,
// labels set by a strategic one.
func TestPodStatusWrites(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	pods := s.Client.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := func(patchType types.PatchType, body string, sub ...string) (*corev1.Pod, error) {
		return pods.Patch(ctx, "p", patchType, []byte(body), metav1.PatchOptions{}, sub...)
	}

	got, err := patch(types.MergePatchType, `{"status":{"phase":"Running","podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.2"}],`+
		`"conditions":[{"type":"Ready","status":"True"}]}}`, "status")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.PodIP != "10.0.0.1" || len(got.Status.PodIPs) != 1 || got.Status.PodIPs[0].IP != "10.0.0.1" || got.Status.Phase != corev1.PodRunning {
		t.Errorf("podIP wins a disagreement: got %q %v, phase %s", got.Status.PodIP, got.Status.PodIPs, got.Status.Phase)
	}
	got, err = patch(types.MergePatchType, `{"status":{"podIP":null,"podIPs":[{"ip":"10.0.0.9"},{"ip":"fd00::9"}]}}`, "status")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.PodIP != "10.0.0.9" || len(got.Status.PodIPs) != 2 || len(got.Status.Conditions) != 1 {
		t.Errorf("the list gives podIP: got %q %v, conditions %v", got.Status.PodIP, got.Status.PodIPs, got.Status.Conditions)
	}

	for body, want := range map[string]string{
		`{"status":{"podIP":"notanip"}}`:                                   `status.podIPs[0]: Invalid value: "notanip": must be a valid IP address`,
		`{"status":{"hostIP":"1.2.3.4","hostIPs":[{"ip":"1.2.3.5"}]}}`:     "status.hostIPs[0].ip: Invalid value: \"1.2.3.5\": must be equal to `hostIP`",
		`{"status":{"conditions":[{"type":"bad type!","status":"True"}]}}`: `status.conditions[0].Type: Invalid value: "bad type!"`,
		`{"status":{"nominatedNodeName":"other"}}`:                         "status.nominatedNodeName: Forbidden: may not be set on pods that are already bound to a node",
	} {
		_, err := patch(types.MergePatchType, body, "status")
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("patch %s: err = %v, want 422 with %q", body, err, want)
		}
	}

	got, err = patch(types.StrategicMergePatchType, `{"metadata":{"labels":{"tier":"front"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["tier"] != "front" || got.Status.PodIP != "10.0.0.9" {
		t.Errorf("strategic label patch: labels %v, podIP %q", got.Labels, got.Status.PodIP)
	}
	// The fast path leaves what it cannot apply to the document path,
	// which reports it.
	_, err = pods.Patch(ctx, "p", types.MergePatchType, []byte(`{"spec":{"bogus":1}}`), metav1.PatchOptions{FieldValidation: "Strict"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `unknown field "spec.bogus"`) {
		t.Errorf("strict merge patch with an unknown field: err = %v, want 400 naming spec.bogus", err)
	}
}
