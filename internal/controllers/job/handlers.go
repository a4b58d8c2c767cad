package job

import (
	"context"
	"fmt"

	"github.com/tugcluster/tug/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// Pod event handlers only note what the cache now shows (expectations) and
// enqueue keys; the syncs do the work.

func (c *Controller) onPodAdd(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if ref := jobRef(pod); ref != nil {
		key := pod.Namespace + "/" + ref.Name
		c.exp.creationObserved(key)
		if pod.DeletionTimestamp != nil {
			c.exp.deletionObserved(key, pod.UID)
		}
		c.loop.Enqueue(key)
	}
	c.enqueueClaimers(pod)
	c.checkOrphan(pod)
}

func (c *Controller) onPodUpdate(oldObj, obj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	if !hasTrackingFinalizer(pod) {
		c.exp.finalizerRemovalObserved(pod.UID)
	}
	if ref := jobRef(pod); ref != nil {
		key := pod.Namespace + "/" + ref.Name
		if pod.DeletionTimestamp != nil {
			c.exp.deletionObserved(key, pod.UID)
		}
		c.loop.Enqueue(key)
	}
	if ref := jobRef(old); ref != nil {
		c.loop.Enqueue(old.Namespace + "/" + ref.Name) // a released pod's former job
	}
	c.enqueueClaimers(pod)
	c.checkOrphan(pod)
}

func (c *Controller) onPodDelete(obj any) {
	pod, ok := controller.As[*corev1.Pod](obj)
	if !ok {
		return
	}
	c.exp.finalizerRemovalObserved(pod.UID)
	if ref := jobRef(pod); ref != nil {
		key := pod.Namespace + "/" + ref.Name
		c.exp.deletionObserved(key, pod.UID)
		c.loop.Enqueue(key)
	}
}

// onJobDelete hands the pods the job still holds with its finalizer to the
// orphan loop: nothing else would ever release them.
func (c *Controller) onJobDelete(obj any) {
	c.loop.EnqueueObject(obj)
	job, ok := controller.As[*batchv1.Job](obj)
	if !ok {
		return
	}
	for _, pod := range c.podsOf(job) {
		if hasTrackingFinalizer(pod) {
			c.orphans.EnqueueObject(pod)
		}
	}
}

// checkOrphan enqueues a pod that carries the tracking finalizer but whose
// job, as far as the cache knows, is gone.
func (c *Controller) checkOrphan(pod *corev1.Pod) {
	if !hasTrackingFinalizer(pod) {
		return
	}
	ref := jobRef(pod)
	if ref != nil {
		if job, err := c.jobs.Jobs(pod.Namespace).Get(ref.Name); err == nil && job.UID == ref.UID {
			return
		}
	}
	c.orphans.EnqueueObject(pod)
}

// syncOrphan removes the tracking finalizer from a pod whose job no longer
// exists (or which no job controls), after asking the API server, since
// the job cache may simply be behind.
func (c *Controller) syncOrphan(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !hasTrackingFinalizer(pod) {
		return nil
	}
	if ref := jobRef(pod); ref != nil {
		if job, err := c.jobs.Jobs(ns).Get(ref.Name); err == nil && job.UID == ref.UID {
			return nil // the job's own sync releases it
		}
		job, err := c.client.BatchV1().Jobs(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case err == nil && job.UID == ref.UID:
			c.loop.Enqueue(ns + "/" + ref.Name)
			return nil
		case err != nil && !apierrors.IsNotFound(err):
			return fmt.Errorf("get job %s/%s: %w", ns, ref.Name, err)
		}
	}
	return c.removeFinalizer(ctx, pod)
}

// removeFinalizerPatch deletes only the tracking finalizer, whatever else
// the pod's finalizer list holds by the time the patch lands.
const removeFinalizerPatch = `{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + batchv1.JobTrackingFinalizer + `"]}}`

// removeFinalizer releases a pod; a pod already gone is released too.
func (c *Controller) removeFinalizer(ctx context.Context, pod *corev1.Pod) error {
	_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType,
		[]byte(removeFinalizerPatch), metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
