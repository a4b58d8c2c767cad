package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// policyMatch is the outcome of a pod failure policy for one failed pod.
type policyMatch struct {
	// action is the matching rule's action; empty when no rule matched,
	// which is handled like Count.
	action batchv1.PodFailurePolicyAction
	// message explains the match; the FailureTarget and Failed
	// conditions carry it for FailJob.
	message string
}

// matchFailurePolicy evaluates the rules in order against a failed pod and
// returns the first match. Rules with an action this controller does not
// know are skipped, as the API asks of clients.
func matchFailurePolicy(policy *batchv1.PodFailurePolicy, pod *corev1.Pod) policyMatch {
	if policy == nil {
		return policyMatch{}
	}
	for i, rule := range policy.Rules {
		switch rule.Action {
		case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionFailIndex,
			batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
		default:
			continue
		}
		if rule.OnExitCodes != nil {
			if name, code, ok := matchExitCodes(rule.OnExitCodes, pod); ok {
				return policyMatch{action: rule.Action, message: fmt.Sprintf(
					"Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					name, pod.Namespace, pod.Name, code, rule.Action, i)}
			}
			continue
		}
		if cond, ok := matchPodConditions(rule.OnPodConditions, pod); ok {
			return policyMatch{action: rule.Action, message: fmt.Sprintf(
				"Pod %s/%s has condition %s matching %s rule at index %d",
				pod.Namespace, pod.Name, cond, rule.Action, i)}
		}
	}
	return policyMatch{}
}

// matchExitCodes finds a container (init containers first) that
// terminated with a non-zero exit code satisfying req.
func matchExitCodes(req *batchv1.PodFailurePolicyOnExitCodesRequirement, pod *corev1.Pod) (string, int32, bool) {
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range statuses {
			if req.ContainerName != nil && *req.ContainerName != s.Name {
				continue
			}
			t := s.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			switch req.Operator {
			case batchv1.PodFailurePolicyOnExitCodesOpIn:
				if in {
					return s.Name, t.ExitCode, true
				}
			case batchv1.PodFailurePolicyOnExitCodesOpNotIn:
				if !in {
					return s.Name, t.ExitCode, true
				}
			}
		}
	}
	return "", 0, false
}

// matchPodConditions finds a pod condition equal in type and status to
// one of the patterns.
func matchPodConditions(patterns []batchv1.PodFailurePolicyOnPodConditionsPattern, pod *corev1.Pod) (corev1.PodConditionType, bool) {
	for _, p := range patterns {
		for _, c := range pod.Status.Conditions {
			if c.Type == p.Type && c.Status == p.Status {
				return c.Type, true
			}
		}
	}
	return "", false
}
