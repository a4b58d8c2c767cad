package integration

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestStatefulSetWithClaimsCanBeUpdated checks that a stateful set with
// volumeClaimTemplates can be scaled and its template changed: the stored
// copy must compare equal to what the client sends back in the fields
// that may not change.
func TestStatefulSetWithClaimsCanBeUpdated(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) { o.DisableScheduler = true })
	ctx := context.Background()
	labels := map[string]string{"app": "db"}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](0), ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	sets := s.Client.AppsV1().StatefulSets("default")
	if _, err := sets.Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller writes the set's status meanwhile: retry conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got, err := sets.Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		got.Spec.Replicas = ptr.To[int32](2)
		got.Spec.Template.Spec.Containers[0].Image = "db:2"
		_, err = sets.Update(ctx, got, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("scale and change the template of a set with claims: %v", err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got, err := sets.Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		got.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		_, err = sets.Update(ctx, got, metav1.UpdateOptions{})
		return err
	})
	if !apierrors.IsInvalid(err) {
		t.Errorf("changing a claim template: %v, want it refused as invalid", err)
	}
}
