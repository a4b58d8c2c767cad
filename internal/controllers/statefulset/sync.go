package statefulset

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/history"
)

// sync moves the set named by key one step towards its spec and writes its
// status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key this controller queued; retrying cannot help
	}
	cached, err := c.sets.StatefulSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cached.DeletionTimestamp != nil {
		return nil // the garbage collector removes the pods
	}
	set := cached.DeepCopy()
	logger := klog.FromContext(ctx).WithValues("statefulSet", klog.KObj(set))
	revisions := controller.Owned[*appsv1.ControllerRevision](c.revIndex, set.UID)
	collisions := ptr.Deref(set.Status.CollisionCount, 0)
	updateRev, newCollisions, err := history.Ensure(ctx, c.client, history.Owner{
		Ref: *metav1.NewControllerRef(set, controllerKind), Namespace: set.Namespace,
		Template: &set.Spec.Template, CollisionCount: collisions,
	}, revisions)
	if errors.Is(err, history.ErrCollision) {
		set.Status.CollisionCount = &newCollisions
		if _, uerr := c.client.AppsV1().StatefulSets(namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{}); uerr != nil {
			return fmt.Errorf("record collision of statefulset %s: %w", key, uerr)
		}
		return fmt.Errorf("sync statefulset %s: %w", key, err)
	}
	if err != nil {
		return fmt.Errorf("sync statefulset %s: %w", key, err)
	}
	currentRev := updateRev
	for _, r := range revisions {
		if r.Name == set.Status.CurrentRevision {
			currentRev = r
		}
	}
	pods := map[int]*corev1.Pod{}
	var owned []*corev1.Pod
	for _, pod := range controller.Owned[*corev1.Pod](c.podIndex, set.UID) {
		if ord, ok := parseOrdinal(set.Name, pod.Name); ok {
			pods[ord] = pod
			owned = append(owned, pod)
		}
	}
	v := viewOf(set, pods, updateRev.Name, c.clock.Now())
	actions, wait := plan(v)
	actErr := c.act(ctx, set, v, actions, currentRev, updateRev)
	if actErr != nil {
		logger.V(4).Info("Sync step failed", "err", actErr)
	}
	live := sets.New(currentRev.Name, updateRev.Name)
	for _, pod := range owned {
		live.Insert(revisionOf(pod))
	}
	pruneErr := history.Prune(ctx, c.client, dedupe(append(revisions, updateRev)), live, ptr.Deref(set.Spec.RevisionHistoryLimit, 10))
	status := computeStatus(set, owned, currentRev.Name, updateRev.Name, collisions, c.clock.Now())
	var statusErr error
	if !apiequality.Semantic.DeepEqual(set.Status, status) {
		set.Status = status
		_, statusErr = c.client.AppsV1().StatefulSets(namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{})
	}
	if err := errors.Join(actErr, pruneErr, statusErr); err != nil {
		return fmt.Errorf("sync statefulset %s: %w", key, err)
	}
	if wait > 0 {
		// A ready pod becomes available when minReadySeconds have passed;
		// no event marks that moment.
		return controller.Requeue{After: wait}
	}
	return nil
}

// viewOf is the plan input for set.
func viewOf(set *appsv1.StatefulSet, pods map[int]*corev1.Pod, update string, now time.Time) view {
	v := view{
		start: startOrdinal(set), replicas: replicas(set),
		ordered:        set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement,
		rolling:        set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType,
		maxUnavailable: 1,
		updateRevision: update,
		minReady:       time.Duration(set.Spec.MinReadySeconds) * time.Second,
		now:            now,
		pods:           pods,
	}
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		v.partition = int(ptr.Deref(ru.Partition, 0))
		if ru.MaxUnavailable != nil {
			n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, v.replicas, false)
			if err == nil {
				v.maxUnavailable = max(n, 1)
			}
		}
	}
	return v
}

// act carries out the plan's actions; it stops at the first failure.
func (c *Controller) act(ctx context.Context, set *appsv1.StatefulSet, v view, actions []action, currentRev, updateRev *appsv1.ControllerRevision) error {
	for _, a := range actions {
		var err error
		switch a.kind {
		case create:
			rev := updateRev
			if v.rolling && a.ordinal-v.start < v.partition {
				rev = currentRev // below the partition pods stay at the current revision
			}
			err = c.createPod(ctx, set, rev, a.ordinal)
		case condemn:
			if err = c.handOverClaims(ctx, set, v.pods[a.ordinal], a.ordinal); err == nil {
				err = c.deletePod(ctx, set, v.pods[a.ordinal])
			}
		case recreate, update:
			err = c.deletePod(ctx, set, v.pods[a.ordinal])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, rev *appsv1.ControllerRevision, ordinal int) error {
	if err := c.ensureClaims(ctx, set, ordinal); err != nil {
		return err
	}
	template, err := history.Template(rev)
	if err != nil {
		return err
	}
	pod := newPod(set, template, rev.Name, ordinal)
	_, err = c.client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case err == nil:
		c.recorder.Eventf(set, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create",
			"create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil // made by an earlier sync the cache has not shown yet
	}
	c.recorder.Eventf(set, nil, corev1.EventTypeWarning, "FailedCreate", "Create",
		"create Pod %s in StatefulSet %s failed error: %s", pod.Name, set.Name, err)
	return fmt.Errorf("create pod %s/%s: %w", set.Namespace, pod.Name, err)
}

func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
	switch {
	case err == nil:
		c.recorder.Eventf(set, pod, corev1.EventTypeNormal, "SuccessfulDelete", "Delete",
			"delete Pod %s in StatefulSet %s successful", pod.Name, set.Name)
		return nil
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return nil // already gone or replaced
	}
	c.recorder.Eventf(set, pod, corev1.EventTypeWarning, "FailedDelete", "Delete",
		"delete Pod %s in StatefulSet %s failed error: %s", pod.Name, set.Name, err)
	return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
}

// dedupe drops repeated revisions by name, keeping the last.
func dedupe(revs []*appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	byName := map[string]int{}
	var out []*appsv1.ControllerRevision
	for _, r := range revs {
		if i, ok := byName[r.Name]; ok {
			out[i] = r
			continue
		}
		byName[r.Name] = len(out)
		out = append(out, r)
	}
	return out
}
