package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

func TestReadySandbox(t *testing.T) {
	tests := []struct {
		name      string
		sandboxes []*runtimeapi.PodSandbox // newest first, as podRuntimeState sorts them
		want      string
	}{
		{name: "none"},
		{name: "ready", sandboxes: []*runtimeapi.PodSandbox{sandbox("sb1", 0, true)}, want: "sb1"},
		{name: "not ready", sandboxes: []*runtimeapi.PodSandbox{sandbox("sb1", 0, false)}},
		{name: "newest ready", sandboxes: []*runtimeapi.PodSandbox{sandbox("sb2", 1, true), sandbox("sb1", 0, false)}, want: "sb2"},
		// An older sandbox that is still up is not the pod's: a new one is due.
		{name: "newest not ready", sandboxes: []*runtimeapi.PodSandbox{sandbox("sb2", 1, false), sandbox("sb1", 0, true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (&podRuntime{sandboxes: tt.sandboxes}).readySandbox()
			if id := got.GetId(); id != tt.want {
				t.Errorf("readySandbox = %q, want %q", id, tt.want)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	a0 := ctr("a0", "sb1", "a", 0, stExited, 1)
	a1 := ctr("a1", "sb1", "a", 1, stExited, 1)
	a2 := ctr("a2", "sb2", "a", 2, stRunning, 0)
	b0 := ctr("b0", "sb2", "b", 0, stRunning, 0)
	tests := []struct {
		name           string
		containers     []*containerState
		container, sb  string
		last, previous *containerState
	}{
		{name: "none", container: "a"},
		{name: "one", containers: []*containerState{a0, b0}, container: "a", last: a0},
		{name: "newest by attempt, in any order", containers: []*containerState{a1, a2, a0, b0}, container: "a", last: a2, previous: a1},
		{name: "newest first", containers: []*containerState{a2, a1, a0}, container: "a", last: a2, previous: a1},
		{name: "oldest first", containers: []*containerState{a0, a1, a2}, container: "a", last: a2, previous: a1},
		{name: "in one sandbox", containers: []*containerState{a0, a1, a2}, container: "a", sb: "sb1", last: a1, previous: a0},
		{name: "not in that sandbox", containers: []*containerState{a0, a1}, container: "a", sb: "sb2"},
		{name: "other container", containers: []*containerState{a0, a1, a2, b0}, container: "b", last: b0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last, previous := (&podRuntime{containers: tt.containers}).latest(tt.container, tt.sb)
			if last != tt.last || previous != tt.previous {
				t.Errorf("latest = %v, %v; want %v, %v", idOf(last), idOf(previous), idOf(tt.last), idOf(tt.previous))
			}
		})
	}
}

func idOf(c *containerState) string {
	if c == nil {
		return "<nil>"
	}
	return c.id
}

// podFinished: a pod that restarts nothing needs no new sandbox once its
// containers ran to the end (the kubelet's computePodActions does not
// create one for it either).
func TestPodFinished(t *testing.T) {
	old := []*runtimeapi.PodSandbox{sandbox("sb1", 0, false)}
	tests := []struct {
		name       string
		policy     corev1.RestartPolicy
		sandboxes  []*runtimeapi.PodSandbox
		containers []*containerState
		want       bool
	}{
		{name: "Always never finishes", policy: corev1.RestartPolicyAlways, sandboxes: old,
			containers: []*containerState{ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stExited, 0)}},
		{name: "nothing ran yet", policy: corev1.RestartPolicyNever},
		{name: "Never: all exited", policy: corev1.RestartPolicyNever, sandboxes: old, want: true,
			containers: []*containerState{ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stExited, 1)}},
		{name: "Never: one still running", policy: corev1.RestartPolicyNever, sandboxes: old,
			containers: []*containerState{ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stRunning, 0)}},
		{name: "OnFailure: all succeeded", policy: corev1.RestartPolicyOnFailure, sandboxes: old, want: true,
			containers: []*containerState{ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stExited, 0)}},
		{name: "OnFailure: one failed", policy: corev1.RestartPolicyOnFailure, sandboxes: old,
			containers: []*containerState{ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stExited, 2)}},
		{name: "OnFailure: failed then succeeded", policy: corev1.RestartPolicyOnFailure, sandboxes: old, want: true,
			containers: []*containerState{
				ctr("a0", "sb1", "a", 0, stExited, 0), ctr("b0", "sb1", "b", 0, stExited, 2), ctr("b1", "sb1", "b", 1, stExited, 0),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(tt.policy, nil, "a", "b")
			if got := podFinished(pod, &podRuntime{sandboxes: tt.sandboxes, containers: tt.containers}); got != tt.want {
				t.Errorf("podFinished = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGracePeriods(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	if got := podGrace(pod); got != 30 {
		t.Errorf("podGrace without a period = %d, want the default 30", got)
	}
	pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](0)
	if got := podGrace(pod); got != 0 {
		t.Errorf("podGrace = %d, want 0", got)
	}
	c := ctr("a0", "sb1", "a", 0, stRunning, 0)
	if got := gracePeriodOf(c, 7); got != 7 {
		t.Errorf("gracePeriodOf without annotation = %d, want the default 7", got)
	}
	c.status.Annotations = map[string]string{annotationTerminationGrace: "45"}
	if got := gracePeriodOf(c, 7); got != 45 {
		t.Errorf("gracePeriodOf = %d, want 45", got)
	}
	c.status.Annotations[annotationTerminationGrace] = "soon"
	if got := gracePeriodOf(c, 7); got != 7 {
		t.Errorf("gracePeriodOf with a bad annotation = %d, want the default 7", got)
	}
}

func TestRunningContainers(t *testing.T) {
	state := &podRuntime{
		sandboxes: []*runtimeapi.PodSandbox{sandbox("sb2", 1, true), sandbox("sb1", 0, false)},
		containers: []*containerState{
			ctr("a0", "sb1", "a", 0, stRunning, 0), // an old sandbox's: not probed
			ctr("a1", "sb2", "a", 1, stRunning, 0),
			ctr("b0", "sb2", "b", 0, stExited, 0),
			ctr("c0", "sb2", "c", 0, stCreated, 0),
		},
	}
	got := runningContainers(state)
	if len(got) != 1 || got["a"].ID != "a1" || !got["a"].StartedAt.Equal(t0) {
		t.Errorf("runningContainers = %v, want only a1 started at %v", got, t0)
	}
	state.sandboxes[0].State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	if got := runningContainers(state); len(got) != 0 {
		t.Errorf("runningContainers without a ready sandbox = %v, want none", got)
	}
}
