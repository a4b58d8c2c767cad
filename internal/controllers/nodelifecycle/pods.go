package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// markPodsNotReady sets the Ready condition of every running pod on
// nodeName to False, so that Services stop sending them traffic.
func (c *Controller) markPodsNotReady(ctx context.Context, nodeName string, now time.Time) error {
	var errs []error
	for _, pod := range c.podsOn(nodeName) {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		i := podConditionIndex(pod, corev1.PodReady)
		if i < 0 || pod.Status.Conditions[i].Status == corev1.ConditionFalse {
			continue
		}
		updated := pod.DeepCopy()
		updated.Status.Conditions[i].Status = corev1.ConditionFalse
		updated.Status.Conditions[i].LastTransitionTime = metav1.NewTime(now)
		_, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", pod.Namespace, pod.Name, err))
			continue
		}
		c.recorder.Eventf(pod, nil, corev1.EventTypeWarning, "NodeNotReady", "MarkNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

func podConditionIndex(pod *corev1.Pod, t corev1.PodConditionType) int {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return i
		}
	}
	return -1
}
