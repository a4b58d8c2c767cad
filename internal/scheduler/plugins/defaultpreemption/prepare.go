package defaultpreemption

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
)

// prepare carries out the preemption chosen: it nominates pod to the
// node, evicts the victims, and takes the nomination away from
// lower-priority pods nominated there, which the room was not made for.
func (pl *DefaultPreemption) prepare(ctx context.Context, pod *corev1.Pod, c *candidate) error {
	if pod.Status.NominatedNodeName != c.node {
		if err := pl.patchNomination(ctx, pod, c.node); err != nil {
			return fmt.Errorf("nominate pod %s/%s to node %s: %w", pod.Namespace, pod.Name, c.node, err)
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
	)
	pl.h.Parallelize(ctx, len(c.victims), func(i int) {
		if err := pl.evict(ctx, pod, c.victims[i].Pod, c.node); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	})
	if firstErr != nil {
		return firstErr
	}
	prio := corev1helpers.PodPriority(pod)
	for _, pi := range pl.h.NominatedPodsForNode(c.node) {
		if pi.Pod.UID == pod.UID || corev1helpers.PodPriority(pi.Pod) >= prio {
			continue
		}
		if err := pl.clearNomination(ctx, pi.Pod); err != nil {
			return err
		}
	}
	return nil
}

// evict marks victim with a DisruptionTarget condition (so that its
// controllers and the eligibility check know why it goes), deletes it and
// records an Event. A victim already gone is fine.
func (pl *DefaultPreemption) evict(ctx context.Context, preemptor, victim *corev1.Pod, node string) error {
	pods := pl.h.ClientSet().CoreV1().Pods(victim.Namespace)
	if !terminatingByPreemption(victim) && !hasPreemptionCondition(victim) {
		patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []map[string]any{{
			"type":               corev1.DisruptionTarget,
			"status":             corev1.ConditionTrue,
			"reason":             corev1.PodReasonPreemptionByScheduler,
			"message":            fmt.Sprintf(disruptionConditionMsgFmt, preemptor.Spec.SchedulerName),
			"lastTransitionTime": metav1.NewTime(pl.clock.Now()),
		}}}})
		if err != nil {
			return fmt.Errorf("encode condition patch: %w", err)
		}
		_, err = pods.Patch(ctx, victim.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark victim %s/%s: %w", victim.Namespace, victim.Name, err)
		}
	}
	if err := pods.Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete victim %s/%s: %w", victim.Namespace, victim.Name, err)
	}
	if r := pl.h.EventRecorder(); r != nil {
		r.Eventf(victim, preemptor, corev1.EventTypeNormal, preemptedEventReason, preemptedEventAction, preemptedEventNoteFmt, preemptor.UID, node)
	}
	klog.FromContext(ctx).V(4).Info("Preempted pod", "pod", klog.KObj(victim), "preemptor", klog.KObj(preemptor), "node", node)
	return nil
}

func hasPreemptionCondition(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == corev1.PodReasonPreemptionByScheduler {
			return true
		}
	}
	return false
}

// patchNomination sets pod's status.nominatedNodeName.
func (pl *DefaultPreemption) patchNomination(ctx context.Context, pod *corev1.Pod, node string) error {
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"nominatedNodeName": node}})
	if err != nil {
		return fmt.Errorf("encode nomination patch: %w", err)
	}
	_, err = pl.h.ClientSet().CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// clearNomination removes pod's nomination, if it has one; a pod already
// gone has none.
func (pl *DefaultPreemption) clearNomination(ctx context.Context, pod *corev1.Pod) error {
	if pod.Status.NominatedNodeName == "" {
		return nil
	}
	_, err := pl.h.ClientSet().CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType,
		[]byte(`{"status":{"nominatedNodeName":null}}`), metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("clear nomination of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
