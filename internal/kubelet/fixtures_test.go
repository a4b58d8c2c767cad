package kubelet

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// Builders shared by this package's table tests. The statuses they make
// are what the kubelet reports for a container in that state, so that a
// table row reads like a `kubectl get pod -o yaml` excerpt.

// testPod is pod ns1/web with restartPolicy policy, the init containers
// inits and one regular container per name.
func testPod(policy corev1.RestartPolicy, inits []corev1.Container, names ...string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "uid-1"},
		Spec:       corev1.PodSpec{RestartPolicy: policy, InitContainers: inits},
	}
	for _, n := range names {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: n, Image: "busybox:1.36"})
	}
	return pod
}

// initC is a regular init container.
func initC(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "busybox:1.36"}
}

// sidecarC is a restartable init container (restartPolicy Always).
func sidecarC(name string) corev1.Container {
	c := initC(name)
	c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	return c
}

func waitingStatus(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func runningStatus(name string, started, ready bool) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: name, Ready: ready, Started: ptr.To(started),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
	}
}

func terminatedStatus(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: name, Started: ptr.To(false),
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
	}
}

// completedInit is an init container that exited 0: the kubelet reports
// it Ready.
func completedInit(name string) corev1.ContainerStatus {
	s := terminatedStatus(name, 0)
	s.Ready = true
	return s
}

// crashLoopStatus is a container waiting in CrashLoopBackOff after exiting
// with lastCode.
func crashLoopStatus(name string, lastCode int32) corev1.ContainerStatus {
	s := waitingStatus(name, "CrashLoopBackOff")
	s.Started = ptr.To(false)
	s.RestartCount = 1
	s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: lastCode}
	return s
}

// sandbox is a CRI sandbox of pod ns1/web.
func sandbox(id string, attempt uint32, ready bool) *runtimeapi.PodSandbox {
	state := runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	if ready {
		state = runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return &runtimeapi.PodSandbox{
		Id:       id,
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "ns1", Uid: "uid-1", Attempt: attempt},
		State:    state,
	}
}

// Times of the containers ctr makes: started at t0, exited at t1.
var (
	t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(90 * time.Second)
)

// ctr is instance attempt of container name in sandbox sandboxID; an
// exited one exited with exit.
func ctr(id, sandboxID, name string, attempt uint32, state runtimeapi.ContainerState, exit int32) *containerState {
	st := &runtimeapi.ContainerStatus{Id: id, State: state, ImageRef: "sha256:feed"}
	if state != runtimeapi.ContainerState_CONTAINER_CREATED {
		st.StartedAt = t0.UnixNano()
	}
	if state == runtimeapi.ContainerState_CONTAINER_EXITED {
		st.FinishedAt = t1.UnixNano()
		st.ExitCode = exit
	}
	return &containerState{id: id, sandboxID: sandboxID, name: name, attempt: attempt, status: st}
}

const (
	stRunning = runtimeapi.ContainerState_CONTAINER_RUNNING
	stExited  = runtimeapi.ContainerState_CONTAINER_EXITED
	stCreated = runtimeapi.ContainerState_CONTAINER_CREATED
)
