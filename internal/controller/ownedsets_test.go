package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func ownedPod(name string, owner types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: string(owner), UID: owner, Controller: ptr.To(true)}}
	}
	return p
}

// nodeOf is the facts the tests' sets take: the pod's node.
func nodeOf(p *corev1.Pod) string { return p.Spec.NodeName }

// ownedNames lists the names owned by owner, checking each one's facts.
func ownedNames(t *testing.T, s *OwnedSets[*corev1.Pod, string], owner types.UID) []string {
	t.Helper()
	var names []string
	s.Range(owner, func(o *OwnedObject[*corev1.Pod, string]) {
		if o.Facts != nodeOf(o.Obj) {
			t.Errorf("%s is filed with the facts %q, want %q", o.Obj.Name, o.Facts, nodeOf(o.Obj))
		}
		names = append(names, o.Obj.Name)
	})
	slices.Sort(names)
	return names
}

func TestOwnedSetsFollowEvents(t *testing.T) {
	s := NewOwnedSets(nodeOf)
	for _, name := range []string{"a", "b", "c", "d"} {
		s.OnAdd(ownedPod(name, "rs1"))
	}
	s.OnAdd(ownedPod("orphan", ""))
	s.OnAdd("not a pod")
	check := func(owner types.UID, want ...string) {
		t.Helper()
		if got := ownedNames(t, s, owner); !slices.Equal(got, want) {
			t.Errorf("owned by %s = %v, want %v", owner, got, want)
		}
		if n := s.Len(owner); n != len(want) {
			t.Errorf("Len(%s) = %d, want %d", owner, n, len(want))
		}
	}
	check("rs1", "a", "b", "c", "d")
	check("", []string(nil)...)

	// A new version replaces the filed one, facts and all; a new
	// controller moves it.
	newer := ownedPod("b", "rs1")
	newer.ResourceVersion = "2"
	newer.Spec.NodeName = "node-1"
	s.OnUpdate(ownedPod("b", "rs1"), newer)
	var filed []OwnedObject[*corev1.Pod, string]
	s.Range("rs1", func(o *OwnedObject[*corev1.Pod, string]) { filed = append(filed, *o) })
	if !slices.Contains(filed, OwnedObject[*corev1.Pod, string]{Obj: newer, Facts: "node-1"}) {
		t.Errorf("the update did not replace b: %v", filed)
	}
	s.OnUpdate(ownedPod("a", "rs1"), ownedPod("a", "rs2"))
	check("rs1", "b", "c", "d")
	check("rs2", "a")

	// Released (no controller), deleted, deleted through a tombstone.
	s.OnUpdate(ownedPod("c", "rs1"), ownedPod("c", ""))
	s.OnDelete(ownedPod("d", "rs1"))
	s.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: ownedPod("a", "rs2")})
	check("rs1", "b")
	check("rs2", []string(nil)...)
	s.OnDelete(ownedPod("b", "rs1"))
	s.OnDelete(ownedPod("never-filed", "rs1"))
	check("rs1", []string(nil)...)
	if len(s.byOwner) != 0 || len(s.ownerOf) != 0 {
		t.Errorf("empty sets still hold %d owners, %d objects", len(s.byOwner), len(s.ownerOf))
	}
}
