package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// The Event and pod condition upstream's taint eviction writes; users and
// tools (kubectl describe, disruption budgets) match on them.
const (
	reasonEviction       = "TaintManagerEviction"
	reasonDisruption     = "DeletionByTaintManager"
	messageDisruption    = "Taint manager: deleting due to NoExecute taint"
	maxTolerationSeconds = math.MaxInt64 / int64(time.Second)
)

// syncPod deletes the pod named by key once the NoExecute taints of its
// node, less what it tolerates, say so; until then it asks to be called
// again at the deadline. Each sync decides afresh, so a taint going away or
// tolerations changing cancel an eviction by themselves.
func (c *Controller) syncPod(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key we made; nothing to retry
	}
	pod, err := c.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.forgetEviction(key)
		return nil
	}
	if err != nil {
		return err
	}
	// A terminating pod is already on its way out, with its own grace.
	if pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" {
		c.forgetEviction(key)
		return nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if apierrors.IsNotFound(err) {
		c.forgetEviction(key)
		return nil
	}
	if err != nil {
		return err
	}
	now := c.clock.Now()
	deadline, evict := evictionDeadline(klog.FromContext(ctx), pod.Spec.Tolerations, noExecuteTaints(node),
		func() time.Time { return c.pendingSince(key, now) })
	if !evict {
		c.cancelEviction(pod, key)
		return nil
	}
	if now.Before(deadline) {
		c.pendingSince(key, now)
		return controller.Requeue{After: deadline.Sub(now)}
	}
	if err := c.evict(ctx, pod, now); err != nil {
		return err
	}
	c.forgetEviction(key)
	return nil
}

// evictionDeadline returns when a pod with tolerations must leave a node
// with the NoExecute taints, and false if it may stay forever. A taint the
// pod does not tolerate evicts at once (the zero time); otherwise each
// tolerationSeconds counts from its taint's timeAdded, or from since() for
// a taint that has none, and the earliest deadline wins.
func evictionDeadline(logger klog.Logger, tolerations []corev1.Toleration, taints []corev1.Taint,
	since func() time.Time) (time.Time, bool) {
	var deadline time.Time
	bounded := false
	for i := range taints {
		taint := &taints[i]
		tolerated := false
		for j := range tolerations {
			tol := &tolerations[j]
			// Lt/Gt operators are not served here, so never enabled.
			if !tol.ToleratesTaint(logger, taint, false) {
				continue
			}
			tolerated = true
			if tol.TolerationSeconds == nil {
				continue
			}
			var start time.Time
			if taint.TimeAdded != nil {
				start = taint.TimeAdded.Time
			} else {
				start = since()
			}
			seconds := min(max(*tol.TolerationSeconds, 0), maxTolerationSeconds)
			at := start.Add(time.Duration(seconds) * time.Second)
			if !bounded || at.Before(deadline) {
				deadline, bounded = at, true
			}
		}
		if !tolerated {
			return time.Time{}, true
		}
	}
	return deadline, bounded
}

// evict records why, marks the pod as disrupted and deletes it. The UID
// precondition spares a new pod that took the old one's name.
func (c *Controller) evict(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	c.recorder.Eventf(pod, nil, corev1.EventTypeNormal, reasonEviction, "Deleting",
		"Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
	klog.FromContext(ctx).V(2).Info("Evicting pod from tainted node", "pod", klog.KObj(pod), "node", pod.Spec.NodeName)
	pods := c.client.CoreV1().Pods(pod.Namespace)
	if !hasDisruptionTarget(pod) {
		patch, err := disruptionPatch(now)
		if err != nil {
			return err
		}
		_, err = pods.Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark pod %s/%s disrupted: %w", pod.Namespace, pod.Name, err)
		}
	}
	err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

func hasDisruptionTarget(pod *corev1.Pod) bool {
	i := podConditionIndex(pod, corev1.DisruptionTarget)
	return i >= 0 && pod.Status.Conditions[i].Status == corev1.ConditionTrue &&
		pod.Status.Conditions[i].Reason == reasonDisruption
}

// disruptionPatch is a strategic merge patch of the status that adds or
// replaces the DisruptionTarget condition (conditions merge on type).
func disruptionPatch(now time.Time) ([]byte, error) {
	cond := corev1.PodCondition{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: reasonDisruption, Message: messageDisruption, LastTransitionTime: metav1.NewTime(now),
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{cond}}})
	if err != nil {
		return nil, fmt.Errorf("encode DisruptionTarget patch: %w", err)
	}
	return patch, nil
}

// pendingSince returns when the controller first found the pod waiting
// for eviction, remembering now if it had not.
func (c *Controller) pendingSince(key string, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	since, ok := c.pending[key]
	if !ok {
		c.pending[key] = now
		since = now
	}
	return since
}

// cancelEviction forgets a pending eviction and says so on the pod.
func (c *Controller) cancelEviction(pod *corev1.Pod, key string) {
	c.mu.Lock()
	_, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if ok {
		c.recorder.Eventf(pod, nil, corev1.EventTypeNormal, reasonEviction, "Canceling",
			"Cancelling deletion of Pod %s/%s", pod.Namespace, pod.Name) //nolint:misspell // upstream's wording, which users match on
	}
}

func (c *Controller) forgetEviction(key string) {
	c.mu.Lock()
	delete(c.pending, key)
	c.mu.Unlock()
}
