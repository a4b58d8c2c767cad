package node

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/runtime/cri"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestAgentRestart restarts the agent: a pod deleted while the agent was
// down leaves nothing behind in the runtime, and running pods are
// adopted, not restarted.
func TestAgentRestart(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	node := c.Nodes[0]
	keep := create(t, c.Client, busybox("keep", "sleep 3600"))
	gone := create(t, c.Client, busybox("gone", "sleep 3600"))
	before := waitPod(t, c.Client, keep.Namespace, keep.Name, 60*time.Second, "running", running)
	waitPod(t, c.Client, gone.Namespace, gone.Name, 60*time.Second, "running", running)

	c.StopAgent(t, node)
	// Force-delete while the agent is away: only the runtime knows it.
	if err := c.Client.CoreV1().Pods(gone.Namespace).Delete(context.Background(), gone.Name,
		metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	c.StartAgent(t, node)

	client, err := cri.Dial(context.Background(), node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sbs, err := client.Runtime.ListPodSandbox(context.Background(), &runtimeapi.ListPodSandboxRequest{
			Filter: &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"io.kubernetes.pod.uid": string(gone.UID)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(sbs.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox of the pod deleted while the agent was down still there: %v", sbs.Items[0].State)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// By now the agent has synced every pod it knows at least once.
	after := waitPod(t, c.Client, keep.Namespace, keep.Name, 30*time.Second, "running", running)
	b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
	if a.ContainerID != b.ContainerID || a.RestartCount != 0 || after.Status.PodIP != before.Status.PodIP {
		t.Errorf("after the agent restart: container %s restarts %d IP %s; before: %s, IP %s — want the same container kept",
			a.ContainerID, a.RestartCount, after.Status.PodIP, b.ContainerID, before.Status.PodIP)
	}
	cs, err := client.Runtime.ListContainers(context.Background(), &runtimeapi.ListContainersRequest{
		Filter: &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"io.kubernetes.pod.uid": string(keep.UID)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Containers) != 1 || "containerd://"+cs.Containers[0].Id != b.ContainerID || cs.Containers[0].State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("runtime containers of the kept pod = %v, want only the original %s, running", cs.Containers, b.ContainerID)
	}
}
