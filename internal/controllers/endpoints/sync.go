package endpoints

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Annotations and labels the controller writes, as upstream names them.
const (
	AnnotationTriggerTime  = "endpoints.kubernetes.io/last-change-trigger-time"
	AnnotationOverCapacity = "endpoints.kubernetes.io/over-capacity"
	LabelHeadless          = "service.kubernetes.io/headless"
)

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The Service is gone: so are its Endpoints.
		err = c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{}) //nolint:staticcheck // SA1019: Endpoints are still served
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpoints %s: %w", key, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !Manages(svc) || svc.DeletionTimestamp != nil {
		return nil
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	subsets, truncated := Subsets(svc, pods)
	want := Labels(svc)
	current, err := c.endpoints.Endpoints(ns).Get(name) //nolint:staticcheck // SA1019: Endpoints are still served
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if current != nil && apiequality.Semantic.DeepEqual(current.Subsets, subsets) &&
		maps.Equal(current.Labels, want) && (current.Annotations[AnnotationOverCapacity] != "") == truncated {
		return nil
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}} //nolint:staticcheck // SA1019: Endpoints are still served
	if current != nil {
		ep = current.DeepCopy()
	}
	ep.Labels = want
	ep.Subsets = subsets
	if ep.Annotations == nil {
		ep.Annotations = map[string]string{}
	}
	ep.Annotations[AnnotationTriggerTime] = triggerTime(svc, pods, c.clock.Now()).Format(time.RFC3339Nano)
	delete(ep.Annotations, AnnotationOverCapacity)
	if truncated {
		ep.Annotations[AnnotationOverCapacity] = "truncated"
	}
	if current == nil {
		_, err = c.client.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}) //nolint:staticcheck // SA1019: Endpoints are still served
	} else {
		_, err = c.client.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{}) //nolint:staticcheck // SA1019: Endpoints are still served
	}
	if err != nil {
		return fmt.Errorf("write endpoints %s: %w", key, err)
	}
	klog.FromContext(ctx).V(4).Info("Updated endpoints", "service", klog.KObj(svc), "subsets", len(subsets))
	return nil
}

// Labels are the Service's labels plus the headless marker.
func Labels(svc *corev1.Service) map[string]string {
	out := maps.Clone(svc.Labels)
	if out == nil {
		out = map[string]string{}
	}
	delete(out, LabelHeadless)
	if IsHeadless(svc) {
		out[LabelHeadless] = ""
	}
	return out
}

// triggerTime is the last time a change that affects the endpoints
// happened: the newest pod readiness transition, pod creation or service
// creation (a deletion timestamp lies in the future, so it is no
// witness); now when none is known.
func triggerTime(svc *corev1.Service, pods []*corev1.Pod, now time.Time) time.Time {
	latest := svc.CreationTimestamp.Time
	for _, pod := range pods {
		if t := pod.CreationTimestamp.Time; t.After(latest) {
			latest = t
		}
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.LastTransitionTime.After(latest) {
				latest = cond.LastTransitionTime.Time
			}
		}
	}
	if latest.IsZero() {
		return now
	}
	return latest.UTC()
}
