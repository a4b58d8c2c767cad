package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestServiceLoadBalancer: a LoadBalancer Service gets the Ready nodes'
// addresses as its ingress, follows the nodes, and kubectl shows them as
// EXTERNAL-IP.
func TestServiceLoadBalancer(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	addNode := func(name, ip string) {
		if _, err := s.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The node IPAM controller writes the node too: retry on conflict.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			node, err := s.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
			node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
			_, err = s.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	addNode("lb-a", "192.0.2.10")
	svc, err := s.Client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitIngress := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var got []string
		for time.Now().Before(deadline) {
			cur, err := s.Client.CoreV1().Services("default").Get(ctx, svc.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, in := range cur.Status.LoadBalancer.Ingress {
				got = append(got, in.IP)
			}
			if strings.Join(got, ",") == strings.Join(want, ",") {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("ingress = %v, want %v", got, want)
	}
	waitIngress("192.0.2.10")
	addNode("lb-b", "192.0.2.11")
	waitIngress("192.0.2.10", "192.0.2.11")
	out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "get", "svc", "web", "--no-headers")
	if err != nil || !strings.Contains(out, "192.0.2.10,192.0.2.11") {
		t.Errorf("kubectl get svc = %q, %v; want the EXTERNAL-IP column to list both nodes", out, err)
	}
	if err := s.Client.CoreV1().Nodes().Delete(ctx, "lb-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress("192.0.2.11")
}
