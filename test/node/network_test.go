package node

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// httpdPod serves "hello from NAME" on port 8080.
func httpdPod(name string) *corev1.Pod {
	pod := busybox(name, "mkdir -p /www && echo hello from "+name+" > /www/index.html && httpd -f -p 8080 -h /www")
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	return pod
}

// on pins pod to a node.
func on(pod *corev1.Pod, node string) *corev1.Pod {
	pod.Spec.NodeName = node
	return pod
}

// TestNetwork runs two real nodes and checks the pod network.
func TestNetwork(t *testing.T) {
	c := nodetest.StartCluster(t, 2)
	server := create(t, c.Client, on(httpdPod("web-0"), "node-0"))
	server = waitPod(t, c.Client, server.Namespace, server.Name, 60*time.Second, "running", running)
	client := create(t, c.Client, on(busybox("client-1", "sleep 3600"), "node-1"))
	waitPod(t, c.Client, client.Namespace, client.Name, 60*time.Second, "running", running)
	kubectl := testutil.Kubectl(t, "1.33")

	t.Run("PodToPodAcrossNodes", func(t *testing.T) {
		out, err := c.RunKubectlStdout(t, kubectl, "", "exec", client.Name, "--", "timeout", "5", "wget", "-q", "-O", "-", "http://"+server.Status.PodIP+":8080/")
		if err != nil || strings.TrimSpace(out) != "hello from web-0" {
			t.Errorf("pod on node-1 → pod IP %s on node-0: %q, %v", server.Status.PodIP, out, err)
		}
	})
	t.Run("UnknownPodAddressIsDroppedLocally", func(t *testing.T) {
		// An address in the cluster CIDR that no node has hits the
		// blackhole route on the node: it fails at once, never leaving.
		out, err := c.RunKubectlStdout(t, kubectl, "", "exec", client.Name, "--", "sh", "-c", "timeout 3 wget -q -O - http://10.42.250.7:80/ 2>&1; echo rc=$?")
		if err != nil || !strings.Contains(out, "rc=1") {
			t.Errorf("request to an unassigned pod address: %q, %v; want a failure", out, err)
		}
	})
}
