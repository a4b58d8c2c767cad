package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func podControlledBy(ns, name, apiVersion, kind string, uid types.UID) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if kind != "" {
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "owner", UID: uid,
			Controller: ptr.To(true)}}
	}
	return pod
}

func TestRefOf(t *testing.T) {
	jobGVK := batchv1.SchemeGroupVersion.WithKind("Job")
	tests := []struct {
		name             string
		pod              *corev1.Pod
		exact, groupKind bool
	}{
		{"same version", podControlledBy("ns", "p", "batch/v1", "Job", "u"), true, true},
		{"other version", podControlledBy("ns", "p", "batch/v2", "Job", "u"), false, true},
		{"other group", podControlledBy("ns", "p", "example.com/v1", "Job", "u"), false, false},
		{"other kind", podControlledBy("ns", "p", "batch/v1", "CronJob", "u"), false, false},
		{"no controller", podControlledBy("ns", "p", "", "", ""), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefOfKind(tt.pod, jobGVK) != nil; got != tt.exact {
				t.Errorf("RefOfKind = %v, want %v", got, tt.exact)
			}
			if got := RefOfGroupKind(tt.pod, jobGVK.GroupKind()) != nil; got != tt.groupKind {
				t.Errorf("RefOfGroupKind = %v, want %v", got, tt.groupKind)
			}
		})
	}
}

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestIndexes(t *testing.T) {
	jobKind := schema.GroupKind{Group: "batch", Kind: "Job"}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{
		OwnerIndex: indexByOwner, "jobs": IndexByRefOfGroupKind(jobKind)})
	for _, p := range []*corev1.Pod{
		podControlledBy("a", "owned", "batch/v1", "Job", "u1"),
		podControlledBy("b", "elsewhere", "batch/v1", "Job", "u1"),
		podControlledBy("a", "rs", "apps/v1", "ReplicaSet", "u2"),
		podControlledBy("a", "orphan", "", "", ""),
	} {
		if err := indexer.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		got  []*corev1.Pod
		want []string
	}{
		{"owned", Owned[*corev1.Pod](indexer, "u2"), []string{"a/rs"}},
		{"orphans", ByIndex[*corev1.Pod](indexer, OwnerIndex, OrphanKey("a")), []string{"a/orphan"}},
		{"by kind in namespace", OwnedIn[*corev1.Pod](indexer, "jobs", "u1", "a"), []string{"a/owned"}},
		{"other kind not indexed", OwnedIn[*corev1.Pod](indexer, "jobs", "u2", "a"), []string{}},
		{"unknown index", ByIndex[*corev1.Pod](indexer, "none", "u1"), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(tt.got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveRef(t *testing.T) {
	gvk := batchv1.SchemeGroupVersion.WithKind("Job")
	live := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "owner", UID: "u1"}}
	get := func(_, name string) (*batchv1.Job, error) {
		if name != live.Name {
			return nil, cache.ErrFIFOClosed // any error: not found
		}
		return live, nil
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"found", podControlledBy("ns", "p", "batch/v1", "Job", "u1"), "ns/owner"},
		{"replaced", podControlledBy("ns", "p", "batch/v1", "Job", "old"), ""},
		{"other kind", podControlledBy("ns", "p", "apps/v1", "ReplicaSet", "u1"), ""},
		{"no controller", podControlledBy("ns", "p", "", "", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveRef("ns", metav1.GetControllerOfNoCopy(tt.pod), gvk, get)
			if got != tt.want {
				t.Errorf("ResolveRef = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAs(t *testing.T) {
	pod := podControlledBy("ns", "p", "", "", "")
	for name, obj := range map[string]any{"object": pod, "tombstone": cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod}} {
		t.Run(name, func(t *testing.T) {
			if got, ok := As[*corev1.Pod](obj); !ok || got != pod {
				t.Errorf("As = %v, %v; want the pod", got, ok)
			}
		})
	}
	if _, ok := As[*corev1.Pod](&corev1.Node{}); ok {
		t.Error("As accepted a node as a pod")
	}
}
