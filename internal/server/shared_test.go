package server

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPartialMetadata(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Namespace: "default", UID: "u1", ResourceVersion: "7",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "r1"}},
		Finalizers:      []string{"f"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	m, err := partialMetadata(pod)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != "PartialObjectMetadata" || m.Name != "web" || m.UID != "u1" || m.ResourceVersion != "7" ||
		len(m.OwnerReferences) != 1 || len(m.Finalizers) != 1 || m.ManagedFields != nil {
		t.Fatalf("got %+v", m)
	}
	m.Finalizers = nil // the collector trims its copies
	if len(pod.ManagedFields) != 1 || len(pod.Finalizers) != 1 {
		t.Fatalf("the source object changed: %+v", pod.ObjectMeta)
	}
	if _, err := partialMetadata(&metav1.Status{}); err == nil {
		t.Fatal("an object without metadata was accepted")
	}
}
