package kubelet

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/kubelet/probes"
)

// newTestKubelet is a Kubelet with only what the pure status, env and
// config functions use: no client, no runtime.
func newTestKubelet() *Kubelet {
	return &Kubelet{
		cfg:         Config{RuntimeName: "containerd", ClusterDNS: []string{"10.43.0.10"}, ClusterDomain: "cluster.local"},
		probes:      probes.NewManager(nil, clocktesting.NewFakeClock(t0), nil),
		startErrors: map[string]waitingReason{},
	}
}

func TestNanoTime(t *testing.T) {
	tests := []struct {
		ns   int64
		want metav1.Time
	}{
		{ns: 0, want: metav1.Time{}},
		{ns: t0.UnixNano(), want: metav1.NewTime(t0)},
		// The API keeps seconds: truncating here keeps a status equal to
		// its round trip through the API server.
		{ns: t0.Add(999 * time.Millisecond).UnixNano(), want: metav1.NewTime(t0)},
	}
	for _, tt := range tests {
		if got := nanoTime(tt.ns); !got.Equal(&tt.want) {
			t.Errorf("nanoTime(%d) = %v, want %v", tt.ns, got, tt.want)
		}
	}
}

func TestTerminated(t *testing.T) {
	dir := t.TempDir()
	msgFile := filepath.Join(dir, "0")
	if err := os.WriteFile(msgFile, []byte("bye\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		status *runtimeapi.ContainerStatus
		want   corev1.ContainerStateTerminated
	}{
		{
			name:   "exit 0 is Completed",
			status: &runtimeapi.ContainerStatus{ExitCode: 0},
			want:   corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"},
		},
		{
			name:   "non-zero exit is Error",
			status: &runtimeapi.ContainerStatus{ExitCode: 3},
			want:   corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"},
		},
		{
			name:   "runtime reason and message kept",
			status: &runtimeapi.ContainerStatus{ExitCode: 137, Reason: "OOMKilled", Message: "out of memory"},
			want:   corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", Message: "out of memory"},
		},
		{
			name: "termination message file",
			status: &runtimeapi.ContainerStatus{ExitCode: 1,
				Annotations: map[string]string{annotationMessagePath: msgFile}},
			want: corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "bye\n"},
		},
		{
			name: "missing message file",
			status: &runtimeapi.ContainerStatus{ExitCode: 0,
				Annotations: map[string]string{annotationMessagePath: filepath.Join(dir, "gone")}},
			want: corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"},
		},
		{
			name:   "times in seconds",
			status: &runtimeapi.ContainerStatus{StartedAt: t0.Add(300 * time.Millisecond).UnixNano(), FinishedAt: t1.UnixNano()},
			want: corev1.ContainerStateTerminated{Reason: "Completed",
				StartedAt: metav1.NewTime(t0), FinishedAt: metav1.NewTime(t1)},
		},
	}
	k := newTestKubelet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.status.State = stExited
			got := k.terminated(&containerState{id: "c1", name: "a", status: tt.status})
			tt.want.ContainerID = "containerd://c1"
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("terminated (-want +got):\n%s", diff)
			}
		})
	}
}

// The expectations follow the kubelet's convertToAPIContainerStatuses and
// the probe manager's UpdatePodStatus.
func TestContainerStatuses(t *testing.T) {
	withProbe := func(pod *corev1.Pod, readiness, startup bool) *corev1.Pod {
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
		if readiness {
			pod.Spec.Containers[0].ReadinessProbe = p
		}
		if startup {
			pod.Spec.Containers[0].StartupProbe = p
		}
		return pod
	}
	ready := []*runtimeapi.PodSandbox{sandbox("sb1", 0, true)}
	term := func(id string, code int32, reason string) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, ContainerID: "containerd://" + id,
			StartedAt: metav1.NewTime(t0), FinishedAt: metav1.NewTime(t1)}
	}
	base := func(id string, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "a", Image: "busybox:1.36", ImageID: "sha256:feed",
			ContainerID: "containerd://" + id, RestartCount: restarts}
	}
	runningState := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}

	tests := []struct {
		name       string
		pod        *corev1.Pod
		containers []*containerState
		old        []corev1.ContainerStatus
		startError *waitingReason
		probed     string // the running container the probe manager knows
		// ignoreStarted: the kubelet reports started=false for containers
		// that never ran, tug leaves it unset; not what this row is about.
		ignoreStarted bool
		want          corev1.ContainerStatus
	}{
		{
			name:          "not created yet",
			pod:           testPod(corev1.RestartPolicyAlways, nil, "a"),
			ignoreStarted: true,
			want:          waitingStatus("a", "ContainerCreating"),
		},
		{
			name:          "start failure is the waiting reason",
			pod:           testPod(corev1.RestartPolicyAlways, nil, "a"),
			startError:    &waitingReason{reason: "ErrImagePull", message: "pull failed"},
			ignoreStarted: true,
			want: corev1.ContainerStatus{Name: "a", State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "pull failed"}}},
		},
		{
			name:          "waiting for init containers",
			pod:           testPod(corev1.RestartPolicyAlways, []corev1.Container{initC("i")}, "a"),
			containers:    []*containerState{ctr("i1", "sb1", "i", 0, stRunning, 0)},
			ignoreStarted: true,
			want:          waitingStatus("a", "PodInitializing"),
		},
		{
			name:       "running without probes is started and ready",
			pod:        testPod(corev1.RestartPolicyAlways, nil, "a"),
			containers: []*containerState{ctr("c1", "sb1", "a", 0, stRunning, 0)},
			probed:     "c1",
			want: func() corev1.ContainerStatus {
				s := base("c1", 0)
				s.State, s.Started, s.Ready = runningState, ptr.To(true), true
				return s
			}(),
		},
		{
			name:       "readiness probe not passed yet",
			pod:        withProbe(testPod(corev1.RestartPolicyAlways, nil, "a"), true, false),
			containers: []*containerState{ctr("c1", "sb1", "a", 0, stRunning, 0)},
			probed:     "c1",
			want: func() corev1.ContainerStatus {
				s := base("c1", 0)
				s.State, s.Started = runningState, ptr.To(true)
				return s
			}(),
		},
		{
			name:       "startup probe not passed yet",
			pod:        withProbe(testPod(corev1.RestartPolicyAlways, nil, "a"), false, true),
			containers: []*containerState{ctr("c1", "sb1", "a", 0, stRunning, 0)},
			probed:     "c1",
			want: func() corev1.ContainerStatus {
				s := base("c1", 0)
				s.State, s.Started = runningState, ptr.To(false)
				return s
			}(),
		},
		{
			name:       "exited",
			pod:        testPod(corev1.RestartPolicyNever, nil, "a"),
			containers: []*containerState{ctr("c1", "sb1", "a", 0, stExited, 0)},
			want: func() corev1.ContainerStatus {
				s := base("c1", 0)
				s.State.Terminated, s.Started = term("c1", 0, "Completed"), ptr.To(false)
				return s
			}(),
		},
		{
			name: "crash loop back-off",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			containers: []*containerState{
				ctr("c1", "sb1", "a", 0, stExited, 1), ctr("c2", "sb1", "a", 1, stExited, 1),
			},
			startError: &waitingReason{reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container"},
			want: func() corev1.ContainerStatus {
				s := base("c2", 1)
				s.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s restarting failed container"}
				s.LastTerminationState.Terminated, s.Started = term("c2", 1, "Error"), ptr.To(false)
				return s
			}(),
		},
		{
			name: "restarted: last state is the previous instance",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			containers: []*containerState{
				ctr("c2", "sb1", "a", 1, stRunning, 0), ctr("c1", "sb1", "a", 0, stExited, 2),
			},
			probed: "c2",
			want: func() corev1.ContainerStatus {
				s := base("c2", 1)
				s.State, s.Started, s.Ready = runningState, ptr.To(true), true
				s.LastTerminationState.Terminated = term("c1", 2, "Error")
				return s
			}(),
		},
		{
			name:       "last state kept from the API when the old instance is gone",
			pod:        testPod(corev1.RestartPolicyAlways, nil, "a"),
			containers: []*containerState{ctr("c4", "sb1", "a", 3, stRunning, 0)},
			old: []corev1.ContainerStatus{{Name: "a", RestartCount: 3, LastTerminationState: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", ContainerID: "containerd://c3"}}}},
			probed: "c4",
			want: func() corev1.ContainerStatus {
				s := base("c4", 3)
				s.State, s.Started, s.Ready = runningState, ptr.To(true), true
				s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", ContainerID: "containerd://c3"}
				return s
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newTestKubelet()
			state := &podRuntime{sandboxes: ready, containers: tt.containers}
			if tt.startError != nil {
				k.setStartError(tt.pod.UID, "a", tt.startError.reason, tt.startError.message)
			}
			if tt.probed != "" {
				k.probes.UpdatePod(tt.pod, map[string]probes.ContainerInfo{"a": {ID: tt.probed, StartedAt: t0}})
			}
			got := k.containerStatuses(tt.pod, tt.pod.Spec.Containers, state, "sb1", tt.old, false)
			if tt.want.State.Running != nil {
				// A running container reports the resources it runs with.
				c := tt.pod.Spec.Containers[0]
				tt.want.Resources = &corev1.ResourceRequirements{Requests: c.Resources.Requests, Limits: c.Resources.Limits}
			}
			var opts []cmp.Option
			if tt.ignoreStarted {
				opts = append(opts, cmpopts.IgnoreFields(corev1.ContainerStatus{}, "Started"))
				tt.want.Image = "busybox:1.36"
			}
			if diff := cmp.Diff([]corev1.ContainerStatus{tt.want}, got, opts...); diff != "" {
				t.Errorf("containerStatuses (-want +got):\n%s", diff)
			}
		})
	}
}
