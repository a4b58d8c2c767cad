package registry

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestCheckUnchangedRefusesAnUpdateThatChangesCurrent(t *testing.T) {
	defer func(was bool) { checkUpdates = was }(checkUpdates)
	checkUpdates = true
	current := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: ""}}

	_, err := checkUnchanged(current, func() (runtime.Object, error) {
		current.Spec.NodeName = "n1" // the mistake: binding current instead of a copy
		return current, nil
	})
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "n1") {
		t.Fatalf("an update that changed current: err %v, want an internal error showing the change", err)
	}

	current.Spec.NodeName = ""
	got, err := checkUnchanged(current, func() (runtime.Object, error) {
		out := current.DeepCopy()
		out.Spec.NodeName = "n1"
		return out, nil
	})
	if err != nil || got.(*corev1.Pod).Spec.NodeName != "n1" {
		t.Fatalf("an update of a copy: got %v, %v; want the copy, no error", got, err)
	}
}
