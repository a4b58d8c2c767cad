package simulated

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Condition reasons of a pod whose containers have exited.
const (
	reasonCompleted    = "Completed"
	reasonPodCompleted = "PodCompleted"
)

// runningStatus is the status of p once its containers run: on podIP of
// its node at hostIP since started, every container ready, init
// containers done (sidecars running).
func runningStatus(p *Pod, podIP, hostIP string, started time.Time) corev1.PodStatus {
	since := metav1.NewTime(started)
	status := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    hostIP,
		HostIPs:   []corev1.HostIP{{IP: hostIP}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &since,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: since},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: since},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: since},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: since},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: since},
		},
	}
	for _, c := range p.InitContainers {
		if c.Sidecar {
			status.InitContainerStatuses = append(status.InitContainerStatuses, runningContainer(p, c, since))
		} else {
			status.InitContainerStatuses = append(status.InitContainerStatuses, exitedContainer(p, c, since, since))
		}
	}
	for _, c := range p.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, runningContainer(p, c, since))
	}
	return status
}

// readyAgainStatus reports a running pod ready again at now: its
// conditions as runningStatus has them, Ready and ContainersReady since
// now. The merge patch replaces the conditions and leaves the rest.
func readyAgainStatus(p *Pod, now time.Time) corev1.PodStatus {
	conditions := runningStatus(p, p.PodIP, "", p.StartTime).Conditions
	for i := range conditions {
		if t := conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
			conditions[i].LastTransitionTime = metav1.NewTime(now)
		}
	}
	return corev1.PodStatus{Conditions: conditions}
}

// succeededStatus is the status of p once its containers, running since
// started, have exited 0 at now. Only what changes is set: the merge
// patch leaves the addresses and start time as they were.
func succeededStatus(p *Pod, started, now time.Time) corev1.PodStatus {
	since, end := metav1.NewTime(started), metav1.NewTime(now)
	status := corev1.PodStatus{
		Phase: corev1.PodSucceeded,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse, LastTransitionTime: end},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: since, Reason: reasonPodCompleted},
			{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, LastTransitionTime: end, Reason: reasonPodCompleted},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: end, Reason: reasonPodCompleted},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: since},
		},
	}
	for _, c := range p.InitContainers {
		finished := since
		if c.Sidecar {
			finished = end
		}
		status.InitContainerStatuses = append(status.InitContainerStatuses, exitedContainer(p, c, since, finished))
	}
	for _, c := range p.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, exitedContainer(p, c, since, end))
	}
	return status
}

func runningContainer(p *Pod, c Container, since metav1.Time) corev1.ContainerStatus {
	started := true
	s := baseContainerStatus(p, c)
	s.Ready = true
	s.Started = &started
	s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: since}}
	return s
}

func exitedContainer(p *Pod, c Container, since, finished metav1.Time) corev1.ContainerStatus {
	started := false
	s := baseContainerStatus(p, c)
	s.Started = &started
	s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 0, Reason: reasonCompleted, StartedAt: since, FinishedAt: finished, ContainerID: s.ContainerID,
	}}
	return s
}

func baseContainerStatus(p *Pod, c Container) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:        c.Name,
		Image:       c.Image,
		ImageID:     imageID(c.Image),
		ContainerID: "simulated://" + digest(string(p.UID)+"/"+c.Name),
	}
}

// imageID is a stable, made-up digest reference for image.
func imageID(image string) string { return image + "@sha256:" + digest(image) }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// statusPatch is the JSON merge patch that sets status on the pod with
// uid. The uid makes the patch fail on a pod re-created under the same
// name, as the kubelet's own status patches do.
func statusPatch(uid types.UID, status corev1.PodStatus) ([]byte, error) {
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": uid},
		"status":   status,
	})
}
