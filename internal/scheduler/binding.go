package scheduler

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/queue"
)

// bindingCycle waits for a held permit, then binds the assumed pod. On
// failure the pod is forgotten, unreserved and requeued with back-off.
// It runs on its own goroutine so the next pod is scheduled meanwhile.
func (s *Scheduler) bindingCycle(ctx context.Context, state *framework.CycleState, qpi *queue.QueuedPodInfo, assumed *corev1.Pod, permit *framework.Status, wait time.Duration) {
	nodeName := assumed.Spec.NodeName
	var st *framework.Status
	if permit.Code() == framework.Wait {
		// Nothing can allow a waiting pod yet (the Handle has no waiting
		// pods), so a Wait ends in its time-out.
		timer := s.opts.Clock.NewTimer(wait)
		select {
		case <-timer.C():
			st = framework.NewStatus(framework.Unschedulable,
				fmt.Sprintf("rejected due to timeout after waiting %v at plugin %v", wait, permit.Plugin())).WithPlugin(permit.Plugin())
		case <-ctx.Done():
			st = framework.AsStatus(ctx.Err())
		}
		timer.Stop()
	}
	if st.IsSuccess() {
		st = s.fwk.RunBindPlugins(ctx, state, assumed, nodeName)
		if st.IsSkip() {
			st = framework.AsStatus(fmt.Errorf("no bind plugin bound pod %s", klog.KObj(assumed)))
		}
	}
	if !st.IsSuccess() {
		s.undoAssume(ctx, state, assumed)
		s.handleFailure(ctx, qpi, statusFailure(st))
		return
	}
	s.cache.FinishBinding(assumed)
	s.queue.Done(assumed)
	klog.FromContext(ctx).V(2).Info("Pod bound", "node", nodeName)
	s.recorder.Eventf(assumed, nil, corev1.EventTypeNormal, "Scheduled", "Binding",
		"Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, nodeName)
}
