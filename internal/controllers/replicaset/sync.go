package replicaset

import (
	"context"
	"errors"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// sync brings the pods of the object named by key to its spec.replicas
// and writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key this controller queued; retrying cannot help
	}
	rs, orig, err := c.kind.get(namespace, name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		c.podCounts.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	logger := klog.FromContext(ctx).WithValues(c.kind.gvk().Kind, klog.KObj(rs))
	selector, ok := selectorOf(rs)
	if !ok {
		logger.V(2).Info("Ignoring object with an empty or invalid selector")
		return nil
	}
	// Read the expectations before the pods: an event arriving in between
	// then at worst delays this round to the next sync.
	satisfied := c.exp.satisfied(key)
	pods, claimErr := c.claimPods(ctx, rs, selector)
	c.podCounts.Store(key, len(pods.active))
	var manageErr error
	diff := len(pods.active) - int(replicas(rs))
	if satisfied && rs.DeletionTimestamp == nil && claimErr == nil {
		manageErr = c.manageReplicas(ctx, key, rs, orig, pods.active)
	}
	status, wait := calculateStatus(rs, pods, manageErr, diff, c.clock.Now())
	if !c.hasTerminating {
		status.TerminatingReplicas = nil
	}
	var statusErr error
	if !apiequality.Semantic.DeepEqual(rs.Status, status) {
		statusErr = c.kind.updateStatus(ctx, orig, &status)
	}
	if err := errors.Join(claimErr, manageErr, statusErr); err != nil {
		return fmt.Errorf("sync %s %s: %w", c.kind.gvk().Kind, key, err)
	}
	if wait > 0 {
		// A ready pod becomes available when minReadySeconds have passed;
		// no event marks that moment.
		return controller.Requeue{After: wait}
	}
	if !c.exp.satisfied(key) {
		// The informer's events normally finish the round; this is the
		// backstop for expectations that are never met.
		return controller.Requeue{After: expectationsTTL}
	}
	return nil
}
