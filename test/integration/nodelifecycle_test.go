package integration

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestNodeLifecycle plays a kubelet that goes silent and comes back: its
// node turns Unknown and unreachable, pods that tolerate that briefly are
// evicted while pods with the default 300s stay, and the taints go once
// the kubelet reports Ready again.
func TestNodeLifecycle(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) { o.NodeMonitorGracePeriod = 2 * time.Second })
	c := s.Client
	ctx := context.Background()
	const nodeName = "lifecycle-node"

	now := metav1.Now()
	_, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptrTo(nodeName), LeaseDurationSeconds: ptrTo[int32](40),
			RenewTime: ptrTo(metav1.NowMicro())},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var renewing atomic.Bool
	renewing.Store(true)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() { renewLease(c, nodeName, &renewing, stop) })

	short := createLifecyclePod(t, c, "tolerates-1s", nodeName, tolerationFor(corev1.TaintNodeUnreachable, ptrTo[int64](1)))
	other := tolerationFor("example.com/other", nil)
	long := createLifecyclePod(t, c, "tolerates-300s", nodeName, other)
	// DefaultTolerationSeconds admission adds what each pod lacks.
	wantShort := []corev1.Toleration{tolerationFor(corev1.TaintNodeUnreachable, ptrTo[int64](1)),
		tolerationFor(corev1.TaintNodeNotReady, ptrTo[int64](300))}
	if diff := cmp.Diff(wantShort, short.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations of %s (-want +got):\n%s", short.Name, diff)
	}
	wantLong := []corev1.Toleration{other, tolerationFor(corev1.TaintNodeNotReady, ptrTo[int64](300)),
		tolerationFor(corev1.TaintNodeUnreachable, ptrTo[int64](300))}
	if diff := cmp.Diff(wantLong, long.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations of %s (-want +got):\n%s", long.Name, diff)
	}
	long.Status.Phase = corev1.PodRunning
	long.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	if _, err := c.CoreV1().Pods("default").UpdateStatus(ctx, long, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The kubelet goes silent.
	renewing.Store(false)
	eventually(t, "node Unknown and tainted unreachable", func() (bool, error) {
		node, err := c.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return readyOf(node) == corev1.ConditionUnknown && hasTaint(node, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute), nil
	})
	eventually(t, "1s pod evicted", func() (bool, error) {
		pod, err := c.CoreV1().Pods("default").Get(ctx, short.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil || pod.DeletionTimestamp == nil {
			return false, err
		}
		// Without a kubelet the pod stays terminating, showing why.
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.DisruptionTarget && cond.Reason == "DeletionByTaintManager" {
				return true, nil
			}
		}
		t.Errorf("evicted pod has no DisruptionTarget condition: %+v", pod.Status.Conditions)
		return true, nil
	})
	eventually(t, "eviction event", func() (bool, error) {
		list, err := c.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Reason == "TaintManagerEviction" && e.Regarding.Name == short.Name && e.ReportingController == "node-controller" {
				return true, nil
			}
		}
		return false, nil
	})
	eventually(t, "300s pod marked not ready", func() (bool, error) {
		pod, err := c.CoreV1().Pods("default").Get(ctx, long.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return len(pod.Status.Conditions) == 1 && pod.Status.Conditions[0].Status == corev1.ConditionFalse, nil
	})
	assertNotTerminating(t, c, long.Name)

	// The kubelet comes back: it renews its lease and reports Ready.
	renewing.Store(true)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := c.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		for i := range node.Status.Conditions {
			if cond := &node.Status.Conditions[i]; cond.Type == corev1.NodeReady {
				cond.Status, cond.Reason, cond.Message = corev1.ConditionTrue, "KubeletReady", ""
				cond.LastHeartbeatTime, cond.LastTransitionTime = now, now
			}
		}
		_, err = c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "node Ready without node taints", func() (bool, error) {
		node, err := c.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return readyOf(node) == corev1.ConditionTrue && len(node.Spec.Taints) == 0, nil
	})
	assertNotTerminating(t, c, long.Name)
}

// renewLease renews the node's Lease every 200ms while renewing is set,
// until stop is closed; failures are retried at the next tick.
func renewLease(c kubernetes.Interface, name string, renewing *atomic.Bool, stop <-chan struct{}) {
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	leases := c.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		if !renewing.Load() {
			continue
		}
		ctx := context.Background()
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		lease.Spec.RenewTime = ptrTo(metav1.NowMicro())
		_, _ = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
}

func createLifecyclePod(t *testing.T, c kubernetes.Interface, name, nodeName string, tolerations ...corev1.Toleration) *corev1.Pod {
	t.Helper()
	pod, err := c.CoreV1().Pods("default").Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: nodeName, Tolerations: tolerations,
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

func tolerationFor(key string, seconds *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
		TolerationSeconds: seconds}
}

func readyOf(node *corev1.Node) corev1.ConditionStatus {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status
		}
	}
	return ""
}

func hasTaint(node *corev1.Node, key string, effect corev1.TaintEffect) bool {
	for _, taint := range node.Spec.Taints {
		if taint.Key == key && taint.Effect == effect && taint.TimeAdded != nil {
			return true
		}
	}
	return false
}

func assertNotTerminating(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	pod, err := c.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.DeletionTimestamp != nil {
		t.Errorf("pod %s is being deleted, but it tolerates the taint for 300s", name)
	}
}
