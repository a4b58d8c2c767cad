package cache

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestNewSnapshotOf(t *testing.T) {
	withAnti := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "a"}, Spec: corev1.PodSpec{Affinity: &corev1.Affinity{
		PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{}, TopologyKey: "zone",
		}}},
	}}}
	node := func(name string, pods ...*corev1.Pod) *framework.NodeInfo {
		ni := framework.NewNodeInfo(pods...)
		ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
		return ni
	}
	n2, n1 := node("n2"), node("n1", withAnti)
	s := NewSnapshotOf(n2, n1)
	names := func(l []*framework.NodeInfo, _ error) []string {
		var out []string
		for _, ni := range l {
			out = append(out, ni.NodeName())
		}
		return out
	}
	if diff := cmp.Diff([]string{"n2", "n1"}, names(s.List())); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n1"}, names(s.HavePodsWithAffinityList())); diff != "" {
		t.Errorf("HavePodsWithAffinityList (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n1"}, names(s.HavePodsWithRequiredAntiAffinityList())); diff != "" {
		t.Errorf("HavePodsWithRequiredAntiAffinityList (-want +got):\n%s", diff)
	}
	if got, err := s.Get("n1"); err != nil || got != n1 {
		t.Errorf("Get(n1) = %p, %v; want the NodeInfo given, %p", got, err, n1)
	}
	if _, err := s.Get("n3"); err == nil {
		t.Error("Get(n3) found a node not given")
	}
}
