package simulated

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

func TestFilteredListWatch(t *testing.T) {
	pod := func(name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	}
	fw := watch.NewFake()
	lw := filteredListWatch{
		lw: &cache.ListWatch{
			ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
				return &corev1.PodList{
					ListMeta: metav1.ListMeta{ResourceVersion: "10"},
					Items:    []corev1.Pod{*pod("a", "sim-0000"), *pod("b", "other"), *pod("c", "sim-0001")},
				}, nil
			},
			WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return fw, nil },
		},
		keep: func(obj runtime.Object) bool {
			p, ok := obj.(*corev1.Pod)
			return ok && (p.Spec.NodeName == "sim-0000" || p.Spec.NodeName == "sim-0001")
		},
	}
	list, err := lw.ListWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.(*corev1.PodList).Items {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"a", "c"}, names); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if rv := list.(*corev1.PodList).ResourceVersion; rv != "10" {
		t.Errorf("list resourceVersion = %q, want 10", rv)
	}

	w, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		fw.Add(pod("d", "other"))
		fw.Add(pod("e", "sim-0000"))
		fw.Action(watch.Bookmark, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "12"}})
		fw.Delete(pod("f", "other"))
		fw.Delete(pod("a", "sim-0000"))
		fw.Stop()
	}()
	var events []string
	for e := range w.ResultChan() {
		p := e.Object.(*corev1.Pod)
		events = append(events, string(e.Type)+" "+p.Name+p.ResourceVersion)
	}
	w.Stop()
	if diff := cmp.Diff([]string{"ADDED e", "BOOKMARK 12", "DELETED a"}, events); diff != "" {
		t.Errorf("watched (-want +got):\n%s", diff)
	}
}
