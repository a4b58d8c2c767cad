package framework

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestLabelsGenerationIsNeverShared(t *testing.T) {
	pod := func(uid string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid), Namespace: "ns"}}
	}
	ni := NewNodeInfo(pod("a"))
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	copied := ni.Clone()
	if copied.LabelsGeneration != ni.LabelsGeneration {
		t.Fatalf("a copy's labels generation %d, want the original's %d", copied.LabelsGeneration, ni.LabelsGeneration)
	}
	// The copy and the original each change on their own: neither may end
	// at a number the other has, or a memo by (node, generation) would take
	// one's count for the other's.
	copied.AddPod(pod("b"))
	ni.AddPod(pod("c"))
	if copied.LabelsGeneration == ni.LabelsGeneration {
		t.Fatalf("a copy and its original, changed apart, share labels generation %d", ni.LabelsGeneration)
	}
	before := ni.LabelsGeneration
	ni.RemovePod(pod("c"))
	if ni.LabelsGeneration == before || ni.LabelsGeneration == copied.LabelsGeneration {
		t.Fatalf("removing a pod left labels generation %d (copy at %d)", ni.LabelsGeneration, copied.LabelsGeneration)
	}
}
