package daemonset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/history"
)

// sync moves the daemon set named by key towards one up-to-date pod per
// eligible node and writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key this controller queued; retrying cannot help
	}
	cached, err := c.sets.DaemonSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if cached.DeletionTimestamp != nil {
		return nil // the garbage collector removes the pods
	}
	ds := cached.DeepCopy()
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || selector.Empty() {
		return nil // validation prevents this; nothing sensible to do
	}
	revisions := controller.Owned[*appsv1.ControllerRevision](c.revIndex, ds.UID)
	collisions := ptr.Deref(ds.Status.CollisionCount, 0)
	rev, newCollisions, err := history.Ensure(ctx, c.client, history.Owner{
		Ref: *metav1.NewControllerRef(ds, controllerKind), Namespace: ds.Namespace,
		Template: &ds.Spec.Template, CollisionCount: collisions,
	}, revisions)
	if errors.Is(err, history.ErrCollision) {
		ds.Status.CollisionCount = &newCollisions
		if _, uerr := c.client.AppsV1().DaemonSets(namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{}); uerr != nil {
			return fmt.Errorf("record collision of daemonset %s: %w", key, uerr)
		}
		return fmt.Errorf("sync daemonset %s: %w", key, err)
	}
	if err != nil {
		return fmt.Errorf("sync daemonset %s: %w", key, err)
	}
	hash := rev.Labels[history.HashLabel]
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	pods := controller.Owned[*corev1.Pod](c.podIndex, ds.UID)
	v := c.viewOf(ds, hash, nodes, pods)
	satisfied := c.exp.satisfied(key)
	acts, wait := plan(v)
	var actErr error
	if satisfied {
		actErr = c.act(ctx, key, ds, hash, acts)
	}
	live := sets.New(rev.Name)
	for _, r := range revisions {
		if slices.ContainsFunc(pods, func(p *corev1.Pod) bool { return hashOf(p) == r.Labels[history.HashLabel] }) {
			live.Insert(r.Name)
		}
	}
	pruneErr := history.Prune(ctx, c.client, revisions, live, ptr.Deref(ds.Spec.RevisionHistoryLimit, 10))
	status := computeStatus(ds, v, collisions)
	var statusErr error
	if !apiequality.Semantic.DeepEqual(ds.Status, status) {
		ds.Status = status
		_, statusErr = c.client.AppsV1().DaemonSets(namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
	}
	if err := errors.Join(actErr, pruneErr, statusErr); err != nil {
		return fmt.Errorf("sync daemonset %s: %w", key, err)
	}
	if wait > 0 {
		return controller.Requeue{After: wait} // availability after minReadySeconds has no event
	}
	if !c.exp.satisfied(key) {
		return controller.Requeue{After: expectationsTTL}
	}
	return nil
}

// viewOf groups the set's pods by node and decides placement per node.
func (c *Controller) viewOf(ds *appsv1.DaemonSet, hash string, nodes []*corev1.Node, pods []*corev1.Pod) view {
	probe := podTemplate(ds, &ds.Spec.Template, hash)
	byNode := map[string][]*corev1.Pod{}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if n := nodeOf(pod); n != "" {
			byNode[n] = append(byNode[n], pod)
		}
	}
	v := view{hash: hash, minReady: time.Duration(ds.Spec.MinReadySeconds) * time.Second, now: c.clock.Now()}
	seen := sets.New[string]()
	for _, node := range nodes {
		seen.Insert(node.Name)
		v.nodes = append(v.nodes, nodeState{name: node.Name, exists: true, place: placeOn(probe, node), pods: oldestFirst(byNode[node.Name])})
	}
	for name, ps := range byNode {
		if !seen.Has(name) {
			v.nodes = append(v.nodes, nodeState{name: name, pods: ps})
		}
	}
	slices.SortFunc(v.nodes, func(a, b nodeState) int { return strings.Compare(a.name, b.name) })
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		desired := 0
		for _, n := range v.nodes {
			if n.place.shouldRun {
				desired++
			}
		}
		v.rolling = true
		v.maxSurge, v.maxUnavailable = limits(ds.Spec.UpdateStrategy.RollingUpdate, desired)
	}
	return v
}

func oldestFirst(pods []*corev1.Pod) []*corev1.Pod {
	out := slices.Clone(pods)
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// act issues the plan's creations and deletions concurrently, expecting
// each first so that syncs before the informer catches up do not repeat
// them.
func (c *Controller) act(ctx context.Context, key string, ds *appsv1.DaemonSet, hash string, a actions) error {
	if len(a.create) == 0 && len(a.remove) == 0 {
		return nil
	}
	c.exp.expect(key, len(a.create), len(a.remove))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, node := range a.create {
		wg.Go(func() {
			pod := newPod(ds, &ds.Spec.Template, hash, node)
			_, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
			if err != nil {
				c.exp.observed(key, 1, 0) // never going to be seen
				c.recorder.Eventf(ds, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating: %v", err)
				mu.Lock()
				errs = append(errs, fmt.Errorf("create daemon pod on %s: %w", node, err))
				mu.Unlock()
				return
			}
			c.recorder.Eventf(ds, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod on node %s", node)
		})
	}
	for _, pod := range a.remove {
		wg.Go(func() {
			err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &pod.UID},
			})
			switch {
			case err == nil:
				c.recorder.Eventf(ds, pod, corev1.EventTypeNormal, "SuccessfulDelete", "Delete", "Deleted pod: %s", pod.Name)
				return
			case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
				c.exp.observed(key, 0, 1)
				return
			}
			c.exp.observed(key, 0, 1)
			c.recorder.Eventf(ds, pod, corev1.EventTypeWarning, "FailedDelete", "Delete", "Error deleting pod %s: %v", pod.Name, err)
			mu.Lock()
			errs = append(errs, fmt.Errorf("delete daemon pod %s/%s: %w", pod.Namespace, pod.Name, err))
			mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
