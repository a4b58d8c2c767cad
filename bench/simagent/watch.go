package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// counter keeps an informer's objects, reduced to what a count needs, and
// counts those that match.
type counter struct {
	informer cache.SharedIndexInformer
	match    func(obj any) bool
}

// readyNodes counts nodes that are Ready and have a pod CIDR (pods cannot
// start on a node without one).
func readyNodes(client kubernetes.Interface) *counter {
	nodes := client.CoreV1().Nodes()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return nodes.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return nodes.Watch(ctx, o)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &corev1.Node{}, 0, cache.Indexers{})
	_ = inf.SetTransform(func(obj any) (any, error) {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return obj, nil
		}
		slim := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion}}
		slim.Spec.PodCIDR = n.Spec.PodCIDR
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				slim.Status.Conditions = []corev1.NodeCondition{{Type: c.Type, Status: c.Status}}
			}
		}
		return slim, nil
	})
	return &counter{informer: inf, match: func(obj any) bool {
		n := obj.(*corev1.Node)
		return n.Spec.PodCIDR != "" && len(n.Status.Conditions) == 1 && n.Status.Conditions[0].Status == corev1.ConditionTrue
	}}
}

// runningPods counts the pods of namespace that are Running: the API
// server selects them, and the cache keeps only their names.
func runningPods(client kubernetes.Interface, namespace string) *counter {
	pods := client.CoreV1().Pods(namespace)
	selector := fields.OneTermEqualSelector("status.phase", string(corev1.PodRunning)).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return pods.Watch(ctx, o)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	_ = inf.SetTransform(func(obj any) (any, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, ResourceVersion: p.ResourceVersion}}, nil
	})
	return &counter{informer: inf, match: func(any) bool { return true }}
}

// count is how many cached objects match.
func (c *counter) count() int {
	n := 0
	for _, obj := range c.informer.GetStore().List() {
		if c.match(obj) {
			n++
		}
	}
	return n
}

// waitFor polls the count every 100 ms until it reaches want, and returns
// when it did. progress is called every few seconds; failed, when not
// nil, ends the wait with its error (a child process died).
func (c *counter) waitFor(ctx context.Context, want int, timeout time.Duration, failed func() error, progress func(n int)) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		n := c.count()
		if n >= want {
			return time.Now(), nil
		}
		if err := failed(); err != nil {
			return time.Time{}, err
		}
		if time.Since(lastReport) >= 5*time.Second {
			progress(n)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d: %w", n, want, ctx.Err())
		case <-tick.C:
		}
	}
}
