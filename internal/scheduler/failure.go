package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/queue"
)

// noteLengthLimit is the longest note an events.k8s.io Event may carry.
const noteLengthLimit = 1024

// failure is why a pod was not placed in this attempt.
type failure struct {
	err error
	// rejected: the pod does not fit (reason Unschedulable, wait for a
	// helpful event) rather than an internal error (SchedulerError,
	// back off).
	rejected      bool
	plugins       sets.Set[string]
	nominatedNode string
}

func statusFailure(st *framework.Status) failure {
	f := failure{err: st.AsError(), rejected: st.IsRejected()}
	if f.err == nil {
		f.err = fmt.Errorf("unexpected status %v", st.Code())
	}
	if st.Plugin() != "" {
		f.plugins = sets.New(st.Plugin())
	}
	return f
}

// handleScheduleError handles a failed schedulePod.
func (s *Scheduler) handleScheduleError(ctx context.Context, state *framework.CycleState, qpi *queue.QueuedPodInfo, err error) {
	s.handleFailure(ctx, qpi, s.diagnose(ctx, state, qpi.Pod, err))
}

// diagnose turns the error of schedulePod into a failure, running
// preemption when no node fit.
func (s *Scheduler) diagnose(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, err error) failure {
	var fitErr *FitError
	switch {
	case errors.Is(err, errNoNodesAvailable):
		return failure{err: err, rejected: true}
	case errors.As(err, &fitErr):
		f := failure{err: fitErr, rejected: true, plugins: fitErr.Diagnosis.UnschedulablePlugins}
		if !s.fwk.HasPostFilterPlugins() {
			return f
		}
		result, st := s.fwk.RunPostFilterPlugins(ctx, state, pod, fitErr.Diagnosis.NodeToStatus)
		fitErr.Diagnosis.PostFilterMsg = st.Message()
		if st.Code() == framework.Error {
			klog.FromContext(ctx).Error(st.AsError(), "Preemption failed")
		}
		if result != nil && result.NominatedNodeName != "" {
			f.nominatedNode = result.NominatedNodeName
		}
		return f
	default:
		return failure{err: err}
	}
}

// handleFailure requeues the pod (unless it was deleted or bound
// meanwhile), records the nomination, a FailedScheduling event and the
// PodScheduled=False condition.
func (s *Scheduler) handleFailure(ctx context.Context, qpi *queue.QueuedPodInfo, f failure) {
	pod := qpi.Pod
	logger := klog.FromContext(ctx)
	if ctx.Err() != nil {
		s.queue.Done(pod) // shutting down
		return
	}
	cur, err := s.podLister.Pods(pod.Namespace).Get(pod.Name)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && cur.UID != pod.UID):
		logger.V(3).Info("Pod was deleted while it was being scheduled")
		s.queue.Done(pod)
		return
	case err != nil:
		logger.Error(err, "Reading the pod from the informer failed")
		cur = pod
	case cur.Spec.NodeName != "":
		logger.V(3).Info("Pod was bound by someone else while it was being scheduled", "node", cur.Spec.NodeName)
		s.queue.Done(pod)
		return
	}
	qpi.UnschedulablePlugins = f.plugins
	s.queue.AddUnschedulableIfNotPresent(qpi, f.rejected)
	if f.nominatedNode != "" {
		s.queue.Nominator().AddNominatedPod(qpi.PodInfo, f.nominatedNode)
	}
	msg := f.err.Error()
	reason := corev1.PodReasonUnschedulable
	if f.rejected {
		logger.V(2).Info("Unable to schedule pod; waiting", "reason", msg)
	} else {
		reason = corev1.PodReasonSchedulerError
		logger.Error(f.err, "Error scheduling pod; retrying")
	}
	s.recorder.Eventf(cur, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", "%s", truncate(msg, noteLengthLimit))
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
	if err := s.updatePodStatus(ctx, cur, cond, f.nominatedNode); err != nil {
		logger.Error(err, "Updating the pod's scheduling condition failed")
	}
}

// updatePodStatus sets cond (and the nominated node, if any) with a
// status patch, and only if that changes something.
func (s *Scheduler) updatePodStatus(ctx context.Context, pod *corev1.Pod, cond corev1.PodCondition, nominatedNode string) error {
	status := pod.Status.DeepCopy()
	changed := setCondition(status, cond, metav1.NewTime(s.opts.Clock.Now()))
	if nominatedNode != "" && status.NominatedNodeName != nominatedNode {
		status.NominatedNodeName = nominatedNode
		changed = true
	}
	if !changed {
		return nil
	}
	oldJSON, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newJSON, err := json.Marshal(corev1.Pod{Status: *status})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, corev1.Pod{})
	if err != nil {
		return fmt.Errorf("pod status patch: %w", err)
	}
	_, err = s.opts.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// setCondition puts cond into status, keeping the transition time when
// the condition's status stays, and reports whether anything changed.
func setCondition(status *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) bool {
	cond.LastTransitionTime = now
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != cond.Type {
			continue
		}
		if old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message {
			return false
		}
		if old.Status == cond.Status {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		*old = cond
		return true
	}
	status.Conditions = append(status.Conditions, cond)
	return true
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const suffix = " ..."
	return s[:n-len(suffix)] + suffix
}
