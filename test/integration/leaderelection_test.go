package integration

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

// componentLeases are the leases under which tug server runs its scheduler
// and its controller manager.
var componentLeases = []string{"tug-scheduler", "tug-controller-manager"}

// TestComponentsStopWhileAnotherServerHoldsTheirLease plays a second
// server taking the scheduler's and the controller manager's leases: this
// server stops both as soon as it sees the new holder (leader_election_master_status drops to 0; a
// new ReplicaSet gets no pods and a new pod is not bound while the leases
// are held elsewhere), then, the leases released, wins them back and
// catches up.
func TestComponentsStopWhileAnotherServerHoldsTheirLease(t *testing.T) {
	s := testutil.StartServer(t)
	startSimAgent(t, s, 1, "lead-")
	ctx := t.Context()
	client := s.Client
	waitLeading(ctx, t, client, 1, 30*time.Second)

	setLeaseHolders(ctx, t, client, "another-server")
	// Within a few of the elector's 2 s retry periods, well before the 10 s
	// renew deadline after which client-go's elector alone gives up.
	waitLeading(ctx, t, client, 0, 7*time.Second)

	labels := map[string]string{"app": "held"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "held"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
	if _, err := client.AppsV1().ReplicaSets("default").Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create replicaset: %v", err)
	}
	if _, err := client.CoreV1().Pods("default").Create(ctx, schedulerTestPod("unbound", "10m"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	// Longer than a retry period of the elector (2 s): a component that
	// had not stopped would have acted by then.
	time.Sleep(5 * time.Second)
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for _, p := range pods.Items {
		if p.Name != "unbound" {
			t.Errorf("pod %s was created while another server held %s", p.Name, "tug-controller-manager")
		} else if p.Spec.NodeName != "" {
			t.Errorf("pod unbound was bound to %s while another server held tug-scheduler", p.Spec.NodeName)
		}
	}

	setLeaseHolders(ctx, t, client, "")
	waitLeading(ctx, t, client, 1, 30*time.Second)
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return len(pods.Items) == 2 && bound == 2, nil
	})
	if err != nil {
		t.Fatalf("once the leases were released, the ReplicaSet's pod and the pending pod were not both bound: %v", err)
	}
	for _, name := range componentLeases {
		lease, err := client.CoordinationV1().Leases("kube-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get lease %s: %v", name, err)
		}
		if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h == "" || h == "another-server" {
			t.Errorf("lease %s is held by %q, want this server", name, h)
		}
	}
}

// setLeaseHolders writes holder into both component leases (see
// testutil.SetLeaseHolder).
func setLeaseHolders(ctx context.Context, t *testing.T, client kubernetes.Interface, holder string) {
	t.Helper()
	for _, name := range componentLeases {
		if err := testutil.SetLeaseHolder(ctx, client, name, holder); err != nil {
			t.Fatal(err)
		}
	}
}

// waitLeading waits up to timeout until the server reports
// leader_election_master_status want for both component leases.
func waitLeading(ctx context.Context, t *testing.T, client kubernetes.Interface, want int, timeout time.Duration) {
	t.Helper()
	if err := testutil.WaitLeading(ctx, client, want, timeout, componentLeases...); err != nil {
		t.Fatal(err)
	}
}
