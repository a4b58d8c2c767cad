package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The expectations follow the kubelet's getPhase (pkg/kubelet/kubelet_pods.go):
// regular init containers gate the pod, sidecars count as running while
// they run, a container waiting after a termination counts as stopped.
func TestPodPhase(t *testing.T) {
	const (
		always    = corev1.RestartPolicyAlways
		onFailure = corev1.RestartPolicyOnFailure
		never     = corev1.RestartPolicyNever
	)
	tests := []struct {
		name   string
		pod    *corev1.Pod
		inits  []corev1.ContainerStatus
		status []corev1.ContainerStatus
		want   corev1.PodPhase
	}{
		{name: "no statuses yet", pod: testPod(always, nil, "a"), want: corev1.PodPending},
		{
			name: "creating", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{waitingStatus("a", "ContainerCreating")}, want: corev1.PodPending,
		},
		{
			name: "image pull failing", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{waitingStatus("a", "ImagePullBackOff")}, want: corev1.PodPending,
		},
		{
			name: "running", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{runningStatus("a", true, true)}, want: corev1.PodRunning,
		},
		{
			name: "running but unready is still Running", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{runningStatus("a", false, false)}, want: corev1.PodRunning,
		},
		{
			name: "one running one still creating", pod: testPod(always, nil, "a", "b"),
			status: []corev1.ContainerStatus{runningStatus("a", true, true), waitingStatus("b", "ContainerCreating")},
			want:   corev1.PodPending,
		},
		{
			name: "Always: exited 0 is restarting", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0)}, want: corev1.PodRunning,
		},
		{
			name: "Always: CrashLoopBackOff counts as stopped", pod: testPod(always, nil, "a"),
			status: []corev1.ContainerStatus{crashLoopStatus("a", 1)}, want: corev1.PodRunning,
		},
		{
			name: "Always: running and crash looping", pod: testPod(always, nil, "a", "b"),
			status: []corev1.ContainerStatus{runningStatus("a", true, true), crashLoopStatus("b", 2)},
			want:   corev1.PodRunning,
		},
		{
			name: "OnFailure: all exited 0", pod: testPod(onFailure, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 0)},
			want:   corev1.PodSucceeded,
		},
		{
			name: "OnFailure: a failure restarts", pod: testPod(onFailure, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 1)},
			want:   corev1.PodRunning,
		},
		{
			name: "OnFailure: crash loop", pod: testPod(onFailure, nil, "a"),
			status: []corev1.ContainerStatus{crashLoopStatus("a", 1)}, want: corev1.PodRunning,
		},
		{
			name: "OnFailure: one done one running", pod: testPod(onFailure, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), runningStatus("b", true, true)},
			want:   corev1.PodRunning,
		},
		{
			name: "Never: all exited 0", pod: testPod(never, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 0)},
			want:   corev1.PodSucceeded,
		},
		{
			name: "Never: one failed", pod: testPod(never, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 137)},
			want:   corev1.PodFailed,
		},
		{
			name: "Never: failed while another runs", pod: testPod(never, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 1), runningStatus("b", true, true)},
			want:   corev1.PodRunning,
		},
		{
			name: "Never: done while another never started", pod: testPod(never, nil, "a", "b"),
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), waitingStatus("b", "ContainerCreating")},
			want:   corev1.PodPending,
		},
		{
			name: "init running", pod: testPod(always, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{runningStatus("i", true, false)},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "second init waiting", pod: testPod(always, []corev1.Container{initC("i1"), initC("i2")}, "a"),
			inits:  []corev1.ContainerStatus{completedInit("i1"), waitingStatus("i2", "PodInitializing")},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "Never: init failed fails the pod", pod: testPod(never, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{terminatedStatus("i", 1)},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodFailed,
		},
		{
			name: "OnFailure: init failed is retried", pod: testPod(onFailure, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{terminatedStatus("i", 1)},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "Always: init crash looping", pod: testPod(always, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{crashLoopStatus("i", 1)},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "init done, containers running", pod: testPod(always, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{completedInit("i")},
			status: []corev1.ContainerStatus{runningStatus("a", true, true)},
			want:   corev1.PodRunning,
		},
		{
			name: "Never: init done, container done", pod: testPod(never, []corev1.Container{initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{completedInit("i")},
			status: []corev1.ContainerStatus{terminatedStatus("a", 0)},
			want:   corev1.PodSucceeded,
		},
		{
			name: "sidecar not started yet", pod: testPod(always, []corev1.Container{sidecarC("s")}, "a"),
			inits:  []corev1.ContainerStatus{waitingStatus("s", "ContainerCreating")},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "sidecar running, init after it running", pod: testPod(always, []corev1.Container{sidecarC("s"), initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{runningStatus("s", true, true), runningStatus("i", true, false)},
			status: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")},
			want:   corev1.PodPending,
		},
		{
			name: "sidecar and containers running", pod: testPod(always, []corev1.Container{sidecarC("s"), initC("i")}, "a"),
			inits:  []corev1.ContainerStatus{runningStatus("s", true, true), completedInit("i")},
			status: []corev1.ContainerStatus{runningStatus("a", true, true)},
			want:   corev1.PodRunning,
		},
		{
			name: "sidecar crash looping does not stop a running pod", pod: testPod(always, []corev1.Container{sidecarC("proxy")}, "a"),
			inits:  []corev1.ContainerStatus{crashLoopStatus("proxy", 1)},
			status: []corev1.ContainerStatus{runningStatus("a", true, true)},
			want:   corev1.PodRunning,
		},
		{
			name: "Never: sidecar stopped after containers succeeded", pod: testPod(never, []corev1.Container{sidecarC("s")}, "a"),
			inits:  []corev1.ContainerStatus{terminatedStatus("s", 143)},
			status: []corev1.ContainerStatus{terminatedStatus("a", 0)},
			want:   corev1.PodSucceeded,
		},
		{
			name: "Never: sidecar stopped after a container failed", pod: testPod(never, []corev1.Container{sidecarC("s")}, "a"),
			inits:  []corev1.ContainerStatus{terminatedStatus("s", 0)},
			status: []corev1.ContainerStatus{terminatedStatus("a", 1)},
			want:   corev1.PodFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &corev1.PodStatus{InitContainerStatuses: tt.inits, ContainerStatuses: tt.status}
			if got := podPhase(tt.pod, s); got != tt.want {
				t.Errorf("podPhase = %s, want %s", got, tt.want)
			}
		})
	}
}

// finalPhase is the phase of a deleted pod once its containers stopped:
// the kubelet's getPhase with podIsTerminal, and Failed for whatever is
// not yet terminal (status manager's TerminatePod).
func TestFinalPhase(t *testing.T) {
	tests := []struct {
		name   string
		phase  corev1.PodPhase
		status []corev1.ContainerStatus
		want   corev1.PodPhase
	}{
		{name: "all exited 0", phase: corev1.PodRunning,
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 0)}, want: corev1.PodSucceeded},
		{name: "SIGTERM exit", phase: corev1.PodRunning,
			status: []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 143)}, want: corev1.PodFailed},
		{name: "never started", phase: corev1.PodPending,
			status: []corev1.ContainerStatus{waitingStatus("a", "ContainerCreating")}, want: corev1.PodFailed},
		{name: "crash looping after exit 0", phase: corev1.PodRunning,
			status: []corev1.ContainerStatus{crashLoopStatus("a", 0)}, want: corev1.PodFailed},
		{name: "no statuses", phase: corev1.PodPending, want: corev1.PodFailed},
		{name: "already Succeeded stays", phase: corev1.PodSucceeded,
			status: []corev1.ContainerStatus{terminatedStatus("a", 1)}, want: corev1.PodSucceeded},
		{name: "already Failed stays", phase: corev1.PodFailed,
			status: []corev1.ContainerStatus{terminatedStatus("a", 0)}, want: corev1.PodFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &corev1.PodStatus{Phase: tt.phase, ContainerStatuses: tt.status}
			finalPhase(s)
			if s.Phase != tt.want {
				t.Errorf("phase = %s, want %s", s.Phase, tt.want)
			}
		})
	}
}
