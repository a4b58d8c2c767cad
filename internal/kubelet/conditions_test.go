package kubelet

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The expectations follow the kubelet's pkg/kubelet/status/generate.go and
// the status manager (transition time kept while a condition's status is
// unchanged; conditions other components own are left alone). The order
// of conditions is not part of the contract.
func TestSetConditions(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	before := metav1.NewTime(now.Add(-time.Hour))
	cond := func(typ corev1.PodConditionType, status corev1.ConditionStatus, reason, message string, at metav1.Time) corev1.PodCondition {
		return corev1.PodCondition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: at}
	}
	const (
		yes = corev1.ConditionTrue
		no  = corev1.ConditionFalse
	)
	allTrue := func(at metav1.Time) []corev1.PodCondition {
		return []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, yes, "", "", at),
			cond(corev1.PodInitialized, yes, "", "", at),
			cond(corev1.PodReady, yes, "", "", at),
			cond(corev1.ContainersReady, yes, "", "", at),
		}
	}
	gated := testPod(corev1.RestartPolicyAlways, nil, "a")
	gated.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}

	tests := []struct {
		name         string
		pod          *corev1.Pod
		status       corev1.PodStatus
		sandboxReady bool
		want         []corev1.PodCondition
	}{
		{
			name: "running and ready",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			status: corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{runningStatus("a", true, true)}},
			sandboxReady: true,
			want:         allTrue(now),
		},
		{
			name: "unready containers listed in spec order",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a", "b", "c"),
			status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				runningStatus("a", true, false), runningStatus("b", true, true), waitingStatus("c", "ContainerCreating"),
			}},
			sandboxReady: true,
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, yes, "", "", now),
				cond(corev1.PodInitialized, yes, "", "", now),
				cond(corev1.PodReady, no, "ContainersNotReady", "containers with unready status: [a c]", now),
				cond(corev1.ContainersReady, no, "ContainersNotReady", "containers with unready status: [a c]", now),
			},
		},
		{
			name: "no sandbox yet",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			status: corev1.PodStatus{Phase: corev1.PodPending,
				ContainerStatuses: []corev1.ContainerStatus{waitingStatus("a", "ContainerCreating")}},
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, no, "", "", now),
				cond(corev1.PodInitialized, yes, "", "", now),
				cond(corev1.PodReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
				cond(corev1.ContainersReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
			},
		},
		{
			name: "init containers incomplete",
			pod:  testPod(corev1.RestartPolicyAlways, []corev1.Container{initC("i1"), initC("i2"), initC("i3")}, "a"),
			status: corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					completedInit("i1"), runningStatus("i2", true, false), waitingStatus("i3", "PodInitializing"),
				},
				ContainerStatuses: []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")}},
			sandboxReady: true,
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, yes, "", "", now),
				cond(corev1.PodInitialized, no, "ContainersNotInitialized", "containers with incomplete status: [i2 i3]", now),
				cond(corev1.PodReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
				cond(corev1.ContainersReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
			},
		},
		{
			name: "failed init container is incomplete",
			pod:  testPod(corev1.RestartPolicyOnFailure, []corev1.Container{initC("i")}, "a"),
			status: corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{crashLoopStatus("i", 1)},
				ContainerStatuses:     []corev1.ContainerStatus{waitingStatus("a", "PodInitializing")}},
			sandboxReady: true,
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, yes, "", "", now),
				cond(corev1.PodInitialized, no, "ContainersNotInitialized", "containers with incomplete status: [i]", now),
				cond(corev1.PodReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
				cond(corev1.ContainersReady, no, "ContainersNotReady", "containers with unready status: [a]", now),
			},
		},
		{
			name: "init done, started sidecar counts as initialized",
			pod:  testPod(corev1.RestartPolicyAlways, []corev1.Container{sidecarC("s"), initC("i")}, "a"),
			status: corev1.PodStatus{Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{runningStatus("s", true, true), completedInit("i")},
				ContainerStatuses:     []corev1.ContainerStatus{runningStatus("a", true, true)}},
			sandboxReady: true,
			want:         allTrue(now),
		},
		{
			name: "readiness gate met",
			pod:  gated,
			status: corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions:        []corev1.PodCondition{cond("example.com/lb", yes, "", "", before)},
				ContainerStatuses: []corev1.ContainerStatus{runningStatus("a", true, true)}},
			sandboxReady: true,
			want:         append(allTrue(now), cond("example.com/lb", yes, "", "", before)),
		},
		{
			name: "transition time kept while status is unchanged",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			status: corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions: []corev1.PodCondition{
					cond(corev1.PodReadyToStartContainers, yes, "", "", before),
					cond(corev1.PodInitialized, yes, "", "", before),
					cond(corev1.PodReady, no, "ContainersNotReady", "containers with unready status: [a]", before),
					cond(corev1.ContainersReady, no, "ContainersNotReady", "containers with unready status: [a]", before),
				},
				ContainerStatuses: []corev1.ContainerStatus{runningStatus("a", true, true)}},
			sandboxReady: true,
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, yes, "", "", before),
				cond(corev1.PodInitialized, yes, "", "", before),
				cond(corev1.PodReady, yes, "", "", now),
				cond(corev1.ContainersReady, yes, "", "", now),
			},
		},
		{
			name: "conditions of other components are preserved",
			pod:  testPod(corev1.RestartPolicyAlways, nil, "a"),
			status: corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions: []corev1.PodCondition{
					cond(corev1.PodScheduled, yes, "", "", before),
					cond(corev1.DisruptionTarget, yes, "EvictionByEvictionAPI", "Eviction API: evicting", before),
				},
				ContainerStatuses: []corev1.ContainerStatus{runningStatus("a", true, true)}},
			sandboxReady: true,
			want: append(allTrue(now),
				cond(corev1.PodScheduled, yes, "", "", before),
				cond(corev1.DisruptionTarget, yes, "EvictionByEvictionAPI", "Eviction API: evicting", before)),
		},
		{
			name: "succeeded pod",
			pod:  testPod(corev1.RestartPolicyNever, []corev1.Container{initC("i")}, "a", "b"),
			status: corev1.PodStatus{Phase: corev1.PodSucceeded,
				InitContainerStatuses: []corev1.ContainerStatus{completedInit("i")},
				ContainerStatuses:     []corev1.ContainerStatus{terminatedStatus("a", 0), terminatedStatus("b", 0)}},
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, no, "", "", now),
				cond(corev1.PodInitialized, yes, "PodCompleted", "", now),
				cond(corev1.PodReady, no, "PodCompleted", "", now),
				cond(corev1.ContainersReady, no, "PodCompleted", "", now),
			},
		},
		{
			name: "succeeded pod without init containers",
			pod:  testPod(corev1.RestartPolicyOnFailure, nil, "a"),
			status: corev1.PodStatus{Phase: corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{terminatedStatus("a", 0)}},
			want: []corev1.PodCondition{
				cond(corev1.PodReadyToStartContainers, no, "", "", now),
				cond(corev1.PodInitialized, yes, "PodCompleted", "", now),
				cond(corev1.PodReady, no, "PodCompleted", "", now),
				cond(corev1.ContainersReady, no, "PodCompleted", "", now),
			},
		},
	}
	byType := cmpopts.SortSlices(func(a, b corev1.PodCondition) bool { return a.Type < b.Type })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.status.DeepCopy()
			setConditions(tt.pod, s, tt.sandboxReady, now)
			if diff := cmp.Diff(tt.want, s.Conditions, byType); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}
