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

// TestSetNodeCopiesNameCordonAndTaints: the filters and scores read the
// node's name, cordon and taints from the NodeInfo, so each SetNode (a node
// update) and Clone must carry them.
func TestSetNodeCopiesNameCordonAndTaints(t *testing.T) {
	taints := []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	ni := NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Unschedulable: true, Taints: taints}})
	for name, got := range map[string]*NodeInfo{"set": ni, "clone": ni.Clone()} {
		if got.Name != "n1" || got.NodeName() != "n1" || !got.Unschedulable || len(got.Taints) != 1 || got.Taints[0] != taints[0] {
			t.Errorf("%s: Name %q, Unschedulable %v, Taints %v; want the node's n1, true, %v", name, got.Name, got.Unschedulable, got.Taints, taints)
		}
	}
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}) // uncordoned, untainted
	if ni.Unschedulable || len(ni.Taints) != 0 {
		t.Errorf("after the node's update: Unschedulable %v, Taints %v; want false, none", ni.Unschedulable, ni.Taints)
	}
}
