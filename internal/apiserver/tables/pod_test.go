package tables

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podBuilder makes pods for the tests: one container "app" unless
// changed.
type podBuilder struct{ pod *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: om(name),
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.pod.Status.Phase = p; return b }

func (b *podBuilder) node(n string) *podBuilder { b.pod.Spec.NodeName = n; return b }

func (b *podBuilder) ip(ips ...string) *podBuilder {
	b.pod.Status.PodIP = ips[0]
	for _, ip := range ips {
		b.pod.Status.PodIPs = append(b.pod.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	return b
}

func (b *podBuilder) containers(statuses ...corev1.ContainerStatus) *podBuilder {
	b.pod.Spec.Containers = nil
	for _, s := range statuses {
		b.pod.Spec.Containers = append(b.pod.Spec.Containers, corev1.Container{Name: s.Name})
	}
	b.pod.Status.ContainerStatuses = statuses
	return b
}

// initContainers adds init containers; sidecars restart always.
func (b *podBuilder) initContainers(sidecars map[string]bool, statuses ...corev1.ContainerStatus) *podBuilder {
	for _, s := range statuses {
		c := corev1.Container{Name: s.Name}
		if sidecars[s.Name] {
			c.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		}
		b.pod.Spec.InitContainers = append(b.pod.Spec.InitContainers, c)
	}
	b.pod.Status.InitContainerStatuses = statuses
	return b
}

func (b *podBuilder) condition(t corev1.PodConditionType, s corev1.ConditionStatus, reason string) *podBuilder {
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason})
	return b
}

func (b *podBuilder) deleting() *podBuilder { b.pod.DeletionTimestamp = agoPtr(time.Second); return b }

func (b *podBuilder) obj() *corev1.Pod { return b.pod }

func running(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: true, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, code, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}}
}

// restarted sets a restart count and when the last run ended.
func restarted(s corev1.ContainerStatus, count int32, lastEnd time.Duration) corev1.ContainerStatus {
	s.RestartCount = count
	s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: ago(lastEnd)}
	return s
}

func TestPodCells(t *testing.T) {
	sidecar := map[string]bool{"proxy": true}
	runCellCases(t, []cellCase{
		{"running", makePod("web").phase(corev1.PodRunning).node("node-1").ip("10.0.0.5").containers(running("app")).obj(),
			[]any{"web", "1/1", "Running", "0", "5m", "10.0.0.5", "node-1", "<none>", "<none>"}},
		{"pending unscheduled", makePod("new").obj(),
			[]any{"new", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"container creating", makePod("cc").node("n").containers(waiting("app", "ContainerCreating")).obj(),
			[]any{"cc", "0/1", "ContainerCreating", "0", "5m", "<none>", "n", "<none>", "<none>"}},
		{"crash loop with last restart", makePod("crash").phase(corev1.PodRunning).containers(restarted(waiting("app", "CrashLoopBackOff"), 5, 3*time.Minute)).obj(),
			[]any{"crash", "0/1", "CrashLoopBackOff", "5 (3m ago)", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"restarts without last termination", makePod("r").phase(corev1.PodRunning).containers(corev1.ContainerStatus{Name: "app", RestartCount: 2, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}).obj(),
			[]any{"r", "1/1", "Running", "2", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"completed", makePod("done").phase(corev1.PodSucceeded).containers(terminated("app", "Completed", 0, 0)).obj(),
			[]any{"done", "0/1", "Completed", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"killed by signal", makePod("sig").phase(corev1.PodFailed).containers(terminated("app", "", 137, 9)).obj(),
			[]any{"sig", "0/1", "Signal:9", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"exit code without reason", makePod("ec").phase(corev1.PodFailed).containers(terminated("app", "", 3, 0)).obj(),
			[]any{"ec", "0/1", "ExitCode:3", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"first container wins", makePod("two").phase(corev1.PodRunning).containers(waiting("a", "ImagePullBackOff"), waiting("b", "ErrImagePull")).obj(),
			[]any{"two", "0/2", "ImagePullBackOff", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"init running", makePod("i0").initContainers(nil, running("setup")).containers(waiting("app", "PodInitializing")).obj(),
			[]any{"i0", "0/1", "Init:0/1", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"second init running", makePod("i1").initContainers(nil, terminated("a", "Completed", 0, 0), running("b")).obj(),
			[]any{"i1", "0/1", "Init:1/2", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"init crash loop counts init restarts", makePod("ic").initContainers(nil, restarted(waiting("setup", "CrashLoopBackOff"), 4, 10*time.Second)).obj(),
			[]any{"ic", "0/1", "Init:CrashLoopBackOff", "4 (10s ago)", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"init failed", makePod("ie").phase(corev1.PodFailed).initContainers(nil, terminated("setup", "Error", 1, 0)).obj(),
			[]any{"ie", "0/1", "Init:Error", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"init exit code", makePod("ix").initContainers(nil, terminated("setup", "", 2, 0)).obj(),
			[]any{"ix", "0/1", "Init:ExitCode:2", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"init signal", makePod("is").initContainers(nil, terminated("setup", "", 143, 15)).obj(),
			[]any{"is", "0/1", "Init:Signal:15", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"sidecar counts as container", makePod("sc").phase(corev1.PodRunning).initContainers(sidecar, restarted(running("proxy"), 1, 150*time.Minute)).containers(running("app")).condition(corev1.PodInitialized, corev1.ConditionTrue, "").obj(),
			[]any{"sc", "2/2", "Running", "1 (150m ago)", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"sidecar starting", makePod("ss").initContainers(sidecar, corev1.ContainerStatus{Name: "proxy", Started: ptr(false), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}).containers(waiting("app", "PodInitializing")).obj(),
			[]any{"ss", "0/2", "Init:0/1", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"main done, sidecar running, not ready", makePod("nr").phase(corev1.PodRunning).initContainers(sidecar, running("proxy")).containers(terminated("app", "Completed", 0, 0)).condition(corev1.PodInitialized, corev1.ConditionTrue, "").obj(),
			[]any{"nr", "1/2", "Completed", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"completed with a running container", makePod("cr").phase(corev1.PodRunning).containers(running("a"), terminated("b", "Completed", 0, 0)).condition(corev1.PodReady, corev1.ConditionFalse, "").obj(),
			[]any{"cr", "1/2", "NotReady", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"completed with a running container, ready", makePod("crr").phase(corev1.PodRunning).containers(running("a"), terminated("b", "Completed", 0, 0)).condition(corev1.PodReady, corev1.ConditionTrue, "").obj(),
			[]any{"crr", "1/2", "Running", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"terminating", makePod("bye").phase(corev1.PodRunning).containers(running("app")).deleting().obj(),
			[]any{"bye", "1/1", "Terminating", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"deleted after success stays completed", makePod("gone").phase(corev1.PodSucceeded).containers(terminated("app", "Completed", 0, 0)).deleting().obj(),
			[]any{"gone", "0/1", "Completed", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"node lost", func() *corev1.Pod {
			p := makePod("lost").phase(corev1.PodRunning).containers(running("app")).deleting().obj()
			p.Status.Reason = "NodeLost"
			return p
		}(), []any{"lost", "1/1", "Unknown", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"evicted", func() *corev1.Pod {
			p := makePod("ev").phase(corev1.PodFailed).obj()
			p.Status.Reason = "Evicted"
			return p
		}(), []any{"ev", "0/1", "Evicted", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"scheduling gated", makePod("gated").condition(corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonSchedulingGated).obj(),
			[]any{"gated", "0/1", "SchedulingGated", "0", "5m", "<none>", "<none>", "<none>", "<none>"}},
		{"dual stack, nominated, readiness gates", func() *corev1.Pod {
			p := makePod("ds").phase(corev1.PodRunning).ip("10.0.0.7", "fd00::7").containers(running("app")).
				condition("example.com/lb", corev1.ConditionTrue, "").obj()
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}}
			p.Status.NominatedNodeName = "node-2"
			return p
		}(), []any{"ds", "1/1", "Running", "0", "5m", "10.0.0.7", "<none>", "node-2", "1/2"}},
	})
}

func TestPodRowConditions(t *testing.T) {
	for _, tc := range []struct {
		phase corev1.PodPhase
		want  []metav1.TableRowCondition
	}{
		{corev1.PodRunning, nil},
		{corev1.PodSucceeded, []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}}},
		{corev1.PodFailed, []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}}},
	} {
		t.Run(string(tc.phase), func(t *testing.T) {
			table, err := Convert(makePod("p").phase(tc.phase).obj(), Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, table.Rows[0].Conditions); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}
