package main

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// observer records when each pod of a namespace is first seen bound to a
// node, and which pods the nodes report running, through a watch of its
// own.
type observer struct {
	mu      sync.Mutex
	bound   map[string]time.Time
	running map[string]bool
	changed chan struct{}
}

// observe watches pods in namespace until ctx ends.
func observe(ctx context.Context, client kubernetes.Interface, namespace string) (*observer, error) {
	o := &observer{bound: map[string]time.Time{}, running: map[string]bool{}, changed: make(chan struct{}, 1)}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTransform(func(obj any) (any, error) {
			if pod, ok := obj.(*corev1.Pod); ok {
				return &corev1.Pod{ObjectMeta: pod.ObjectMeta, Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
					Status: corev1.PodStatus{Phase: pod.Status.Phase}}, nil
			}
			return obj, nil
		}))
	informer := factory.Core().V1().Pods().Informer()
	record := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" {
			o.mark(pod.Name, pod.Status.Phase == corev1.PodRunning)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: record, UpdateFunc: func(_, obj any) { record(obj) },
	}); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return o, nil
}

func (o *observer) mark(name string, running bool) {
	now := time.Now()
	o.mu.Lock()
	if _, ok := o.bound[name]; !ok {
		o.bound[name] = now
	}
	if running {
		o.running[name] = true
	}
	o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

// waitBound waits until every pod in names is bound, or ctx ends.
func (o *observer) waitBound(ctx context.Context, names []string) error {
	return o.wait(ctx, names, func(name string) bool { _, ok := o.bound[name]; return ok })
}

// waitRunning waits until the nodes report every pod in names running, or
// ctx ends.
func (o *observer) waitRunning(ctx context.Context, names []string) error {
	return o.wait(ctx, names, func(name string) bool { return o.running[name] })
}

// wait waits until has (called with o.mu held) holds for every name. Both
// facts only ever become true, so each check resumes at the first name
// still missing: the observer's own CPU, counted as the scheduler's when it
// shares its process, stays linear in the pods rather than quadratic.
func (o *observer) wait(ctx context.Context, names []string, has func(name string) bool) error {
	next := 0
	for {
		o.mu.Lock()
		for next < len(names) && has(names[next]) {
			next++
		}
		o.mu.Unlock()
		if next == len(names) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// times returns the bind times of names (zero for unbound ones).
func (o *observer) times(names []string) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]time.Time, len(names))
	for i, n := range names {
		out[i] = o.bound[n]
	}
	return out
}
