package replicaset

import (
	"maps"
	"time"

	"github.com/tugcluster/tug/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// A pod's status change waits before its owner syncs, so that the
// changes of many pods share one sync: podStatusBatch, or longer for an
// owner of many pods, whose sync walks them all (podStatusBatchPerPod
// each), so that syncing a big set stays a small share of the CPU.
const (
	podStatusBatch       = 100 * time.Millisecond
	podStatusBatchPerPod = 20 * time.Microsecond
)

// statusBatch is how long key's pods' status changes wait.
func (c *Controller) statusBatch(key string) time.Duration {
	return max(podStatusBatch, c.walkDelay(key))
}

// walkDelay is podStatusBatchPerPod for each pod key had at its last
// sync.
func (c *Controller) walkDelay(key string) time.Duration {
	if n, ok := c.podCounts.Load(key); ok {
		return time.Duration(n.(int)) * podStatusBatchPerPod
	}
	return 0
}

// enqueueForPodCount queues key after a pod of it came or went: at once,
// or, for a set so big that walking its pods takes longer than a status
// batch, after walkDelay, so that a rolling update's churn shares syncs.
func (c *Controller) enqueueForPodCount(key string) {
	if d := c.walkDelay(key); d > podStatusBatch {
		c.loop.EnqueueAfter(key, d)
		return
	}
	c.loop.Enqueue(key)
}

// enqueueObserved queues key after the informer showed one of its pods
// come or go: at once when that met the last expectation of its previous
// sync, which is waiting to create or delete the next batch; otherwise as
// enqueueForPodCount.
func (c *Controller) enqueueObserved(key string, met bool) {
	if met {
		c.loop.Enqueue(key)
		return
	}
	c.enqueueForPodCount(key)
}

// updateOwner queues an updated object of the controller's kind. A change
// of its spec (a new generation) or its deletion is acted on at once; any
// other change is most often the status this controller just wrote, and
// for a big set it waits like a pod's arrival does (enqueueForPodCount):
// otherwise every status write would start the next walk of all its pods
// at once, and status writes would follow each other back to back.
func (c *Controller) updateOwner(oldObj, obj any) {
	old, ok1 := oldObj.(metav1.Object)
	cur, ok2 := obj.(metav1.Object)
	if !ok1 || !ok2 {
		c.loop.EnqueueObject(obj)
		return
	}
	key := cur.GetNamespace() + "/" + cur.GetName()
	if old.GetGeneration() != cur.GetGeneration() || (old.GetDeletionTimestamp() == nil) != (cur.GetDeletionTimestamp() == nil) {
		c.loop.Enqueue(key)
		return
	}
	c.enqueueForPodCount(key)
}

// Pod event handlers only record what the informer saw in the expectations
// and enqueue the owner; the sync does the rest. Many pod events for one
// owner collapse into one queued key, so status is not written per event.

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (e.g. after a
		// relist): for the expectations this is a deletion.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if key := c.ownerKey(pod.Namespace, ref); key != "" {
			c.enqueueObserved(key, c.exp.creationObserved(key))
		}
		return
	}
	for _, key := range c.keysSelecting(pod) {
		c.loop.Enqueue(key)
	}
}

func (c *Controller) updatePod(oldObj, obj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == pod.ResourceVersion {
		return // a resync: nothing changed
	}
	labelsChanged := !maps.Equal(old.Labels, pod.Labels)
	if pod.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		// Graceful deletion began: the pod no longer counts, so the
		// expected deletion is observed now rather than when it is gone.
		c.deletePod(pod)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	ref, oldRef := metav1.GetControllerOfNoCopy(pod), metav1.GetControllerOfNoCopy(old)
	refChanged := !sameRef(ref, oldRef)
	if refChanged && oldRef != nil {
		if key := c.ownerKey(old.Namespace, oldRef); key != "" {
			c.loop.Enqueue(key)
		}
	}
	if ref != nil {
		if key := c.ownerKey(pod.Namespace, ref); key != "" {
			if refChanged || labelsChanged {
				c.loop.Enqueue(key)
			} else {
				// Its own pod changed status: a burst of them (a big set
				// starting) shares one sync.
				c.loop.EnqueueAfter(key, c.statusBatch(key))
			}
		}
		return
	}
	if labelsChanged || refChanged {
		for _, key := range c.keysSelecting(pod) {
			c.loop.Enqueue(key)
		}
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := controller.As[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return // an orphan's deletion changes nobody's count
	}
	if key := c.ownerKey(pod.Namespace, ref); key != "" {
		c.enqueueObserved(key, c.exp.deletionObserved(key, pod.Namespace+"/"+pod.Name))
	}
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID
}

// selectorOf returns the label selector of rs; ok is false for a selector
// that is invalid or empty, which must select nothing rather than every
// pod in the namespace.
func selectorOf(rs *appsv1.ReplicaSet) (labels.Selector, bool) {
	if rs.Spec.Selector == nil {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil, false
	}
	return sel, true
}

func labelsOf(pod *corev1.Pod) labels.Set { return labels.Set(pod.Labels) }
