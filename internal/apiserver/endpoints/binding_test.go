package endpoints

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBindPodLeavesTheCurrentPodAlone(t *testing.T) {
	current := testPod()
	current.UID = "uid-web"
	current.Annotations = map[string]string{"kept": "yes"}
	current.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse},
	}
	before := current.DeepCopy()
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "uid-web", Annotations: map[string]string{"bound-by": "test"}},
		Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}

	obj, err := bindPod(nil, current, binding)
	if err != nil {
		t.Fatal(err)
	}
	bound := obj.(*corev1.Pod)
	if !reflect.DeepEqual(current, before) {
		t.Fatalf("bindPod changed the current pod:\nbefore %+v\nafter  %+v", before, current)
	}
	if bound.Spec.NodeName != "n1" || bound.Annotations["bound-by"] != "test" || bound.Annotations["kept"] != "yes" {
		t.Fatalf("bound pod: node %q, annotations %v", bound.Spec.NodeName, bound.Annotations)
	}
	if len(bound.Status.Conditions) != 2 || bound.Status.Conditions[0].Type != corev1.PodScheduled ||
		bound.Status.Conditions[0].Status != corev1.ConditionTrue || bound.Status.Conditions[1].Type != corev1.PodReady {
		t.Fatalf("bound pod's conditions: %+v", bound.Status.Conditions)
	}
}
