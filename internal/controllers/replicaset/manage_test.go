package replicaset

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestSlowStart(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		failAfter int // calls beyond this many fail; -1 never
		wantDone  int
		wantCalls int
		wantErr   bool
	}{
		{name: "zero", count: 0, failAfter: -1},
		{name: "all succeed", count: 10, failAfter: -1, wantDone: 10, wantCalls: 10},
		// batches 1, 2, 4: the third batch has failures, no fourth.
		{name: "stops after failing batch", count: 100, failAfter: 5, wantDone: 5, wantCalls: 7, wantErr: true},
		{name: "first call fails", count: 500, failAfter: 0, wantDone: 0, wantCalls: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			done, err := slowStart(tt.count, func() error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if tt.failAfter >= 0 && calls > tt.failAfter {
					return errors.New("quota exceeded")
				}
				return nil
			})
			if done != tt.wantDone || calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("slowStart = %d, %v after %d calls; want %d, error %v after %d calls",
					done, err, calls, tt.wantDone, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestPodFromTemplate(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f", Namespace: "prod", UID: "rs-uid"},
		Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{
				Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"},
				Finalizers: []string{"example.com/f"},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
		}},
	}
	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "web-7d9f-", Namespace: "prod",
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"},
			Finalizers: []string{"example.com/f"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f", UID: "rs-uid",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
	got := podFromTemplate(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("podFromTemplate (-want +got):\n%s", diff)
	}
	got.Labels["app"] = "changed"
	if rs.Spec.Template.Labels["app"] != "web" {
		t.Error("podFromTemplate shares the template's labels")
	}
}
