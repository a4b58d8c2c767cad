package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/agent"
	"github.com/tugcluster/tug/internal/testutil"
)

func evictPDB(t *testing.T, c kubernetes.Interface, name string, minAvailable int32) {
	t.Helper()
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptrTo(intstr.FromInt32(minAvailable)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	if _, err := c.PolicyV1().PodDisruptionBudgets("default").Create(context.Background(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pdb: %v", err)
	}
}

func waitAllowed(t *testing.T, c kubernetes.Interface, name string, allowed, healthy int32) {
	t.Helper()
	eventually(t, "pdb "+name+" status", func() (bool, error) {
		pdb, err := c.PolicyV1().PodDisruptionBudgets("default").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return pdb.Status.ObservedGeneration == pdb.Generation && pdb.Status.DisruptionsAllowed == allowed &&
			pdb.Status.CurrentHealthy == healthy, nil
	})
}

func evict(c kubernetes.Interface, name string) error {
	return c.PolicyV1().Evictions("default").Evict(context.Background(), &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})
}

// TestEviction drives the pods/eviction subresource against budgets kept
// by the disruption controller.
func TestEviction(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()

	// A pod no budget selects is simply deleted.
	epPod(t, c, "loner", "10.244.0.9", "http", true)
	if _, err := c.CoreV1().Pods("default").Patch(ctx, "loner", "application/merge-patch+json",
		[]byte(`{"metadata":{"labels":{"app":"other"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("relabel: %v", err)
	}
	if err := evict(c, "loner"); err != nil {
		t.Fatalf("evict pod without budget: %v", err)
	}
	eventually(t, "loner deleted", gonePod(c, "loner"))

	epPod(t, c, "web-a", "10.244.0.10", "http", true)
	epPod(t, c, "web-b", "10.244.0.11", "http", true)
	evictPDB(t, c, "strict", 2)
	waitAllowed(t, c, "strict", 0, 2)
	err := evict(c, "web-a")
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("evict with exhausted budget: got %v, want 429", err)
	}
	status := err.(apierrors.APIStatus).Status() //nolint:errorlint // the client returns *StatusError as is
	if status.Message != "Cannot evict pod as it would violate the pod's disruption budget." ||
		status.Details == nil || len(status.Details.Causes) != 1 || status.Details.Causes[0].Type != "DisruptionBudget" {
		t.Errorf("429 status = %+v", status)
	}

	// Two budgets for one pod are not supported.
	evictPDB(t, c, "loose", 1)
	waitAllowed(t, c, "loose", 1, 2)
	err = evict(c, "web-a")
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "more than one PodDisruptionBudget") {
		t.Fatalf("evict with two budgets: got %v, want 500", err)
	}

	if err := c.PolicyV1().PodDisruptionBudgets("default").Delete(ctx, "strict", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pdb: %v", err)
	}
	if err := evict(c, "web-a"); err != nil {
		t.Fatalf("evict within budget: %v", err)
	}
	eventually(t, "web-a deleted", gonePod(c, "web-a"))
	waitAllowed(t, c, "loose", 0, 1)
	if err := evict(c, "web-b"); !apierrors.IsTooManyRequests(err) {
		t.Fatalf("second eviction: got %v, want 429", err)
	}
}

func gonePod(c kubernetes.Interface, name string) func() (bool, error) {
	return func() (bool, error) {
		_, err := c.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

// TestDrain runs kubectl drain on a node holding both pods of a
// ReplicaSet whose budget allows one disruption: the second eviction is
// refused until the first pod's replacement is Ready on the other node.
func TestDrain(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	agentCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(agentCtx, agent.Options{Simulated: true, Kubeconfig: s.Kubeconfig, Nodes: 2,
			LeaseDuration: 4 * time.Second, PodCompletionTime: time.Hour})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	simWait(t, "2 nodes Ready", func() (bool, error) {
		for _, name := range []string{"sim-0000", "sim-0001"} {
			node, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil || !simNodeReady(node) {
				return false, err
			}
		}
		return true, nil
	})
	kubectl := testutil.Kubectl(t, "1.33")
	// Both pods land on sim-0000 while sim-0001 is cordoned.
	if out, err := s.RunKubectl(t, kubectl, "", "cordon", "sim-0001"); err != nil {
		t.Fatalf("cordon: %v\n%s", err, out)
	}
	labels := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptrTo[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}
	if _, err := c.AppsV1().ReplicaSets("default").Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create replicaset: %v", err)
	}
	evictPDB(t, c, "web", 1)
	simWait(t, "2 pods Ready on sim-0000", func() (bool, error) {
		pods, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		ready := 0
		for i := range pods.Items {
			if pods.Items[i].Spec.NodeName == "sim-0000" && podIsReady(&pods.Items[i]) {
				ready++
			}
		}
		return ready == 2, nil
	})
	waitAllowed(t, c, "web", 1, 2)
	if out, err := s.RunKubectl(t, kubectl, "", "uncordon", "sim-0001"); err != nil {
		t.Fatalf("uncordon: %v\n%s", err, out)
	}
	out, err := s.RunKubectl(t, kubectl, "", "drain", "sim-0000", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
	if err != nil {
		t.Fatalf("kubectl drain: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Cannot evict pod as it would violate the pod's disruption budget.") || !strings.Contains(out, "drained") {
		t.Errorf("kubectl drain output lacks the refused eviction or the result:\n%s", out)
	}
	node, err := c.CoreV1().Nodes().Get(ctx, "sim-0000", metav1.GetOptions{})
	if err != nil || !node.Spec.Unschedulable {
		t.Errorf("sim-0000 not cordoned: %v", err)
	}
	pods, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "sim-0000" {
			t.Errorf("pod %s still on the drained node", p.Name)
		}
	}
}

func podIsReady(pod *corev1.Pod) bool {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
