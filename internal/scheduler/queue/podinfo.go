package queue

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// QueuedPodInfo is a pending pod with what the queue knows about its
// attempts.
type QueuedPodInfo struct {
	*framework.PodInfo
	// Timestamp is when the pod last entered the queue: it orders pods of
	// equal priority and starts the back-off after a failed attempt.
	Timestamp time.Time
	// Attempts counts how often the pod was popped for scheduling.
	Attempts int
	// InitialAttemptTimestamp is when the pod was popped the first time.
	InitialAttemptTimestamp time.Time
	// UnschedulablePlugins rejected the pod in its last attempt; only the
	// cluster events they registered move it out of the unschedulable
	// pods. Empty after an internal error.
	UnschedulablePlugins sets.Set[string]
}

func podKey(pod *corev1.Pod) string {
	if pod.UID != "" {
		return string(pod.UID)
	}
	return pod.Namespace + "/" + pod.Name
}

func (pi *QueuedPodInfo) key() string { return podKey(pi.Pod) }

// priority is spec.priority, which admission fills from the pod's
// PriorityClass; 0 without one.
func priority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// activeLess orders the active queue: higher priority first, then the pod
// that has waited longer.
func activeLess(a, b *QueuedPodInfo) bool {
	pa, pb := priority(a.Pod), priority(b.Pod)
	if pa != pb {
		return pa > pb
	}
	return a.Timestamp.Before(b.Timestamp)
}

// backoffDuration doubles initial for every attempt after the first, up to
// maxDuration.
func backoffDuration(attempts int, initial, maxDuration time.Duration) time.Duration {
	d := initial
	for i := 1; i < attempts; i++ {
		if d >= maxDuration/2 {
			return maxDuration
		}
		d *= 2
	}
	return min(d, maxDuration)
}

// specChanged reports whether an update of a pending pod may change where
// it fits: anything but its status and bookkeeping metadata.
func specChanged(oldPod, newPod *corev1.Pod) bool {
	strip := func(p *corev1.Pod) *corev1.Pod {
		c := p.DeepCopy()
		c.ResourceVersion = ""
		c.Generation = 0
		c.ManagedFields = nil
		c.Status = corev1.PodStatus{}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(oldPod), strip(newPod))
}
