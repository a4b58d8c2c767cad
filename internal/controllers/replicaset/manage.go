package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tugcluster/tug/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// burstReplicas caps the pods one sync creates or deletes, so a huge
// scale-up reaches the API server in bounded steps and the informer can
// confirm each step before the next.
const burstReplicas = 500

// manageReplicas creates or deletes pods so that len(active) moves towards
// spec.replicas. It records expectations before acting, so that syncs
// running before the informer catches up do not act twice.
func (c *Controller) manageReplicas(ctx context.Context, key string, rs *appsv1.ReplicaSet, orig runtime.Object, active []ownedPod) error {
	diff := len(active) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		c.exp.expectCreations(key, n)
		gvk := c.kind.gvk()
		created, err := slowStart(n, func() error { return c.createPod(ctx, rs, orig, gvk) })
		if skipped := n - created; skipped > 0 {
			// Those will never be observed.
			c.exp.lowerCreations(key, skipped)
		}
		return err
	case diff > 0:
		n := min(diff, burstReplicas)
		victims := podsToDelete(active, c.nodeCounts(rs, active), n)
		podKeys := make([]string, len(victims))
		for i, pod := range victims {
			podKeys[i] = pod.Namespace + "/" + pod.Name
		}
		c.exp.expectDeletions(key, podKeys)
		return c.deletePods(ctx, key, orig, victims)
	}
	return nil
}

// slowStart calls fn count times, in concurrent batches of 1, 2, 4, …: a
// failing call (say, quota exceeded) stops the run after a small batch
// instead of sending hundreds of doomed requests. It returns the number of
// successful calls and the first error.
func slowStart(count int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, 1); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		failed := len(errs)
		done += batch - failed
		if failed > 0 {
			return done, <-errs
		}
	}
	return done, nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet, orig runtime.Object, gvk schema.GroupVersionKind) error {
	pod := podFromTemplate(rs, gvk)
	createdName, err := c.postPod(ctx, pod)
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return err // the namespace is going away; no Event worth recording
		}
		c.recorder.Eventf(orig, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating: %v", err)
		return fmt.Errorf("create pod for %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	c.recorder.eventfLazily(orig, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod: %v", func() []any { return []any{createdName()} })
	return nil
}

// postPod creates pod and returns a function that reads the created pod's
// (generated) name from the response. Only the Events the recorder lets
// through need the name, a few of a scale-up's thousands of pods, so the
// response is decoded only when asked.
func (c *Controller) postPod(ctx context.Context, pod *corev1.Pod) (func() string, error) {
	if c.rest == nil {
		created, err := c.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		return func() string { return created.Name }, nil
	}
	result := c.rest.Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(ctx)
	if err := result.Error(); err != nil {
		return nil, err
	}
	return func() string {
		created := &corev1.Pod{}
		if err := result.Into(created); err != nil {
			return pod.GenerateName
		}
		return created.Name
	}, nil
}

// deletePods deletes victims concurrently; a deletion that fails is
// dropped from the expectations, since no event will report it.
func (c *Controller) deletePods(ctx context.Context, key string, orig runtime.Object, victims []*corev1.Pod) error {
	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, pod := range victims {
		wg.Go(func() {
			err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &pod.UID},
			})
			switch {
			case err == nil:
				c.recorder.Eventf(orig, nil, corev1.EventTypeNormal, "SuccessfulDelete", "Delete", "Deleted pod: %v", pod.Name)
			case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
				// Already gone (or replaced): the count is right either way.
				c.exp.deletionObserved(key, pod.Namespace+"/"+pod.Name)
			default:
				c.exp.deletionObserved(key, pod.Namespace+"/"+pod.Name)
				c.recorder.Eventf(orig, nil, corev1.EventTypeWarning, "FailedDelete", "Delete", "Error deleting: %v", err)
				errs[i] = fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nodeCounts returns how many of the active pods of rs, and of the replica
// sets that share its controller (a Deployment's other revisions), each
// node runs, to rank victims by how crowded their node is.
func (c *Controller) nodeCounts(rs *appsv1.ReplicaSet, active []ownedPod) map[string]int {
	perNode := map[string]int{}
	count := func(o *ownedPod) { countOnNode(perNode, o) }
	for i := range active {
		count(&active[i])
	}
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil {
		return perNode
	}
	for _, sibling := range controller.Owned[metav1.Object](c.kind.informer().GetIndexer(), owner.UID) {
		if sibling.GetUID() != rs.UID {
			c.owned.Range(sibling.GetUID(), count)
		}
	}
	return perNode
}

// countOnNode counts o in perNode, by its node, if it is assigned and
// active.
func countOnNode(perNode map[string]int, o *ownedPod) {
	if node := o.Facts.rank.nodeName; node != "" && !o.Facts.terminating && !o.Facts.finished {
		perNode[node]++
	}
}

// podFromTemplate builds the pod rs creates: its template's labels,
// annotations, finalizers and spec, a generated name prefixed with rs's
// name and rs as controller.
func podFromTemplate(rs *appsv1.ReplicaSet, gvk schema.GroupVersionKind) *corev1.Pod {
	t := rs.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    podNamePrefix(rs.Name),
			Namespace:       rs.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{controllerRef(rs, gvk)},
		},
		Spec: t.Spec,
	}
}

// podNamePrefix is "<name>-", or name alone when the dash would make an
// invalid generated name.
func podNamePrefix(name string) string {
	prefix := name + "-"
	if len(apimachineryvalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return name
	}
	return prefix
}
