package simulated

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
)

// conditionsOf maps a pod's condition types to their statuses.
func conditionsOf(p *corev1.Pod) map[corev1.PodConditionType]corev1.ConditionStatus {
	out := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range p.Status.Conditions {
		out[c.Type] = c.Status
	}
	return out
}

func TestPodRuns(t *testing.T) {
	pod := makePod("web", "sim-0001", corev1.RestartPolicyAlways)
	pod.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "example.com/setup:1"}}
	h := newHarness(t, testConfig(), pod)
	h.syncNode("sim-0001")

	// No pod CIDR yet: the pod waits, and asks for no retry (the node's
	// update re-queues it).
	if got := h.syncPod("default/web"); got != 0 {
		t.Errorf("requeue without pod CIDR = %v, want none", got)
	}
	if phase := h.pod("web").Status.Phase; phase != corev1.PodPending {
		t.Fatalf("phase without pod CIDR = %s, want Pending", phase)
	}

	h.setPodCIDR("sim-0001", "10.42.1.0/24")
	h.clock.Step(time.Second)
	if got := h.syncPod("default/web"); got != 0 {
		t.Errorf("requeue of a running restartPolicy Always pod = %v, want none", got)
	}
	got := h.pod("web")
	started := metav1.NewTime(t0.Add(time.Second))
	running := true
	want := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    "198.18.0.2",
		HostIPs:   []corev1.HostIP{{IP: "198.18.0.2"}},
		PodIP:     "10.42.1.2",
		PodIPs:    []corev1.PodIP{{IP: "10.42.1.2"}},
		StartTime: &started,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: started},
		},
		InitContainerStatuses: []corev1.ContainerStatus{{
			Name: "setup", Image: "example.com/setup:1", ImageID: imageID("example.com/setup:1"),
			ContainerID: "simulated://" + digest("uid-web/setup"), Started: new(bool),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Completed", StartedAt: started, FinishedAt: started, ContainerID: "simulated://" + digest("uid-web/setup"),
			}},
		}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "main", Image: "example.com/app:1", ImageID: imageID("example.com/app:1"),
			ContainerID: "simulated://" + digest("uid-web/main"), Ready: true, Started: &running,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		}},
	}
	if diff := cmp.Diff(want, got.Status); diff != "" {
		t.Errorf("running status (-want +got):\n%s", diff)
	}

	// Syncing a running pod again changes nothing.
	h.clock.Step(time.Hour)
	h.syncPod("default/web")
	if diff := cmp.Diff(want, h.pod("web").Status); diff != "" {
		t.Errorf("status after another sync (-want +got):\n%s", diff)
	}
}

func TestPodCompletes(t *testing.T) {
	for _, policy := range []corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure} {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t, testConfig(), makePod("job", "sim-0000", policy))
			h.syncNode("sim-0000")
			h.setPodCIDR("sim-0000", "10.42.0.0/24")

			// Running, due to finish after the completion time (3s).
			if got := h.syncPod("default/job"); got != 3*time.Second {
				t.Errorf("requeue after start = %v, want 3s", got)
			}
			h.clock.Step(time.Second)
			if got := h.syncPod("default/job"); got != 2*time.Second {
				t.Errorf("requeue while running = %v, want 2s", got)
			}
			if phase := h.pod("job").Status.Phase; phase != corev1.PodRunning {
				t.Fatalf("phase after 1s = %s, want Running", phase)
			}
			h.clock.Step(2 * time.Second)
			if got := h.syncPod("default/job"); got != 0 {
				t.Errorf("requeue after completion = %v, want none", got)
			}
			pod := h.pod("job")
			wantConditions := map[corev1.PodConditionType]corev1.ConditionStatus{
				corev1.PodReadyToStartContainers: corev1.ConditionFalse, corev1.PodInitialized: corev1.ConditionTrue,
				corev1.ContainersReady: corev1.ConditionFalse, corev1.PodReady: corev1.ConditionFalse, corev1.PodScheduled: corev1.ConditionTrue,
			}
			if diff := cmp.Diff(wantConditions, conditionsOf(pod)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			terminated := pod.Status.ContainerStatuses[0].State.Terminated
			if pod.Status.Phase != corev1.PodSucceeded || terminated == nil || terminated.ExitCode != 0 || terminated.Reason != "Completed" ||
				!terminated.FinishedAt.Time.Equal(t0.Add(3*time.Second)) || pod.Status.PodIP != "10.42.0.2" {
				t.Errorf("status = %+v, want Succeeded, exited 0 at +3s, address kept", pod.Status)
			}
			if n := h.sim.ips.len(); n != 0 {
				t.Errorf("pods holding addresses = %d, want 0: a finished pod frees its address", n)
			}
		})
	}
}

func TestPodDeletion(t *testing.T) {
	pod := makePod("web", "sim-0000", corev1.RestartPolicyAlways)
	h := newHarness(t, testConfig(), pod)
	h.syncNode("sim-0000")
	h.setPodCIDR("sim-0000", "10.42.0.0/24")
	h.syncPod("default/web")

	// Deletion requested (the API server set the timestamp): the agent
	// deletes the pod for good and frees its address.
	p := h.pod("web")
	now := metav1.NewTime(t0)
	p.DeletionTimestamp = &now
	if _, err := h.client.CoreV1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	var deletes []metav1.DeleteOptions
	h.client.ClearActions()
	h.syncPod("default/web")
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "delete" && a.GetResource().Resource == "pods" {
			deletes = append(deletes, a.(k8stesting.DeleteAction).GetDeleteOptions())
		}
	}
	uid := types.UID("uid-web")
	want := []metav1.DeleteOptions{{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid}}}
	if diff := cmp.Diff(want, deletes); diff != "" {
		t.Errorf("deletes (-want +got):\n%s", diff)
	}
	if _, err := h.client.CoreV1().Pods("default").Get(context.Background(), "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get deleted pod: %v, want NotFound", err)
	}
	if got := h.syncPod("default/web"); got != 0 || h.sim.ips.len() != 0 {
		t.Errorf("after deletion: requeue %v, %d addresses held; want none", got, h.sim.ips.len())
	}
}

func TestPodAdoptedAfterRestart(t *testing.T) {
	// A pod running before the agent (re)started keeps its address, and
	// the next pod does not get it.
	running := makePod("old", "sim-0000", corev1.RestartPolicyAlways)
	running.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.2", StartTime: &metav1.Time{Time: t0}}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0000", UID: "node-uid"},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.0.0/24", PodCIDRs: []string{"10.42.0.0/24"}},
	}
	h := newHarness(t, testConfig(), node, running, makePod("new", "sim-0000", corev1.RestartPolicyAlways))
	h.syncNode("sim-0000")
	h.syncPod("default/old")
	h.syncPod("default/new")
	if got := h.pod("new").Status.PodIP; got != "10.42.0.3" {
		t.Errorf("new pod's address = %s, want 10.42.0.3", got)
	}
	if !netip.MustParsePrefix("10.42.0.0/24").Contains(netip.MustParseAddr(h.pod("old").Status.PodIP)) {
		t.Errorf("old pod lost its address")
	}
	if !isReady(h.node("sim-0000")) {
		t.Errorf("existing node's status was not posted Ready")
	}
}

func TestPodReadyAgainAfterNodeReturns(t *testing.T) {
	// The node controller marked the pod not ready while the agent was
	// down; the restarted agent reports it ready again, and leaves a
	// ready pod alone.
	notReady := makePod("stale", "sim-0000", corev1.RestartPolicyAlways)
	notReady.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.2", StartTime: &metav1.Time{Time: t0},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "NodeNotReady"}}}
	ready := makePod("fine", "sim-0000", corev1.RestartPolicyAlways)
	ready.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.3", StartTime: &metav1.Time{Time: t0},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0000", UID: "node-uid"},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.0.0/24", PodCIDRs: []string{"10.42.0.0/24"}},
	}
	h := newHarness(t, testConfig(), node, notReady, ready)
	h.syncNode("sim-0000")
	h.client.ClearActions()
	h.syncPod("default/stale")
	h.syncPod("default/fine")
	if got := conditionsOf(h.pod("stale")); got[corev1.PodReady] != corev1.ConditionTrue || got[corev1.ContainersReady] != corev1.ConditionTrue {
		t.Errorf("stale pod's conditions = %v, want Ready and ContainersReady True", got)
	}
	patches := 0
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "patch" {
			patches++
		}
	}
	if patches != 1 {
		t.Errorf("status patches = %d, want 1 (the ready pod needs none)", patches)
	}
}

func TestSlimPod(t *testing.T) {
	sidecar := corev1.ContainerRestartPolicyAlways
	deleted := metav1.NewTime(t0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "p", Namespace: "ns", UID: "u", ResourceVersion: "7", DeletionTimestamp: &deleted,
			Labels: map[string]string{"dropped": "yes"},
		},
		Spec: corev1.PodSpec{
			NodeName: "sim-0000", RestartPolicy: corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{Name: "proxy", Image: "proxy:1", RestartPolicy: &sidecar}},
			Containers:     []corev1.Container{{Name: "c", Image: "app:1", Command: []string{"dropped"}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.9", StartTime: &metav1.Time{Time: t0}},
	}
	got, err := slimPod(pod, func(s string) string { return s })
	if err != nil {
		t.Fatal(err)
	}
	want := &Pod{
		Namespace: "ns", Name: "p", UID: "u", ResourceVersion: "7", DeletionTimestamp: &deleted,
		NodeName: "sim-0000", RestartPolicy: corev1.RestartPolicyNever, Phase: corev1.PodRunning,
		PodIP: "10.42.0.9", StartTime: t0,
		Containers:     []Container{{Name: "c", Image: "app:1"}},
		InitContainers: []Container{{Name: "proxy", Image: "proxy:1", Sidecar: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slimPod (-want +got):\n%s", diff)
	}
	again, _ := slimPod(got, nil)
	if again != got {
		t.Errorf("slimPod of a slim pod = %v, want it unchanged", again)
	}
	if diff := cmp.Diff(want, got.(*Pod).DeepCopyObject()); diff != "" {
		t.Errorf("DeepCopyObject (-want +got):\n%s", diff)
	}
}

func TestHostNetworkPodNeedsNoPodCIDR(t *testing.T) {
	pod := makePod("agent", "sim-0001", corev1.RestartPolicyAlways)
	pod.Spec.HostNetwork = true
	h := newHarness(t, testConfig(), pod)
	h.syncNode("sim-0001")
	h.syncPod("default/agent")
	got := h.pod("agent").Status
	if got.Phase != corev1.PodRunning || got.PodIP != "198.18.0.2" || got.HostIP != "198.18.0.2" {
		t.Errorf("status = phase %s, pod IP %q, host IP %q; want Running on the node's address 198.18.0.2", got.Phase, got.PodIP, got.HostIP)
	}
	if n := h.sim.ips.len(); n != 0 {
		t.Errorf("pods holding pod CIDR addresses = %d, want 0", n)
	}
}

func TestSummary(t *testing.T) {
	deleting := makePod("deleting", "sim-0000", corev1.RestartPolicyAlways)
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	hostNet := makePod("hostnet", "sim-0001", corev1.RestartPolicyAlways)
	hostNet.Spec.HostNetwork = true
	h := newHarness(t, testConfig(),
		makePod("a", "sim-0000", corev1.RestartPolicyAlways),
		makePod("b", "sim-0001", corev1.RestartPolicyAlways),
		makePod("c", "sim-0001", corev1.RestartPolicyNever),
		deleting, hostNet,
	)
	h.syncNode("sim-0000")
	h.syncNode("sim-0001")
	h.setPodCIDR("sim-0000", "10.42.0.0/24")
	h.syncPod("default/a")

	want := summary{
		nodesWithoutPodCIDR: 1, noPodCIDRNodes: []string{"sim-0001"},
		pods: 5, pending: 3, pendingNoPodCIDR: 2, running: 1, deleting: 1,
	}
	if diff := cmp.Diff(want, h.sim.summarize(), cmp.AllowUnexported(summary{})); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}
