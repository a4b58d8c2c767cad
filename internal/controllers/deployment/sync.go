package deployment

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// sync brings the Deployment named by key one step closer to its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key this controller queued; retrying cannot help
	}
	cached, err := c.lister.Deployments(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || selector.Empty() {
		// Selecting every pod in the namespace would be a disaster; only
		// record that the spec was seen.
		c.recorder.Eventf(d, nil, corev1.EventTypeWarning, "SelectingAll", "Sync",
			"This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.updateStatus(ctx, d)
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d, selector)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		newRS, old := findNewReplicaSet(d, rsList)
		return c.syncStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if err := c.pausedCondition(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.resize(ctx, d, rsList)
	}
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if scalingEvent(d, newRS, old) {
		return c.resize(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.recreate(ctx, d, rsList)
	}
	return c.rolling(ctx, d, rsList)
}

// pausedCondition records pausing and resuming in Progressing, unless the
// rollout already timed out (that verdict stays until progress resumes).
func (c *Controller) pausedCondition(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cur := getCondition(&d.Status, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == reasonTimedOut {
		return nil
	}
	isPaused := cur != nil && cur.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !isPaused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonPaused,
			"Deployment is paused", c.clock.Now()))
	case !d.Spec.Paused && isPaused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonResumed,
			"Deployment is resumed", c.clock.Now()))
	default:
		return nil
	}
	return c.updateStatus(ctx, d)
}

// syncStatus writes the counts and Available without judging progress
// (paused, scaling, or being deleted).
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	next := calculateStatus(d, all, newRS, c.clock.Now())
	if apiequality.Semantic.DeepEqual(d.Status, next) {
		return nil
	}
	d.Status = next
	return c.updateStatus(ctx, d)
}

// syncRolloutStatus writes status after a rollout step, including the
// Progressing verdict, and asks to be woken at the progress deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	now := c.clock.Now()
	next := calculateStatus(d, all, newRS, now)
	rolloutConditions(d, &next, all, newRS, now)
	if !apiequality.Semantic.DeepEqual(d.Status, next) {
		d.Status = next
		if err := c.updateStatus(ctx, d); err != nil {
			return err
		}
	}
	if at, ok := deadline(d, &d.Status); ok && !complete(d, &d.Status) {
		// Nothing else wakes a stuck rollout when its deadline passes.
		return controller.Requeue{After: max(at.Sub(now), 0) + time.Second}
	}
	return nil
}
