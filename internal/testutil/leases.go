package testutil

import (
	"context"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// SetLeaseHolder plays another server: it writes holder into the Lease
// kube-system/name of one of tug server's components, renewed now for an
// hour; an empty holder releases it. It waits for the lease to exist (the
// server creates it when it first campaigns) and retries when the server's
// renewal conflicts with the write.
func SetLeaseHolder(ctx context.Context, client kubernetes.Interface, name, holder string) error {
	leases := client.CoordinationV1().Leases("kube-system")
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		now := metav1.NewMicroTime(time.Now())
		lease.Spec = coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime: &now, RenewTime: &now,
		}
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("set the holder of lease %s to %q: %w", name, holder, err)
	}
	return nil
}

// WaitLeading waits up to timeout until the server reports
// leader_election_master_status want (1 running, 0 stopped) for each of
// the leases names.
func WaitLeading(ctx context.Context, client kubernetes.Interface, want int, timeout time.Duration, names ...string) error {
	var body []byte
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		body, err = client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return false, nil //nolint:nilerr // the deadline, or a slow server: poll again
		}
		for _, name := range names {
			if !strings.Contains(string(body), fmt.Sprintf("leader_election_master_status{name=%q} %d\n", name, want)) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		var reported []string
		for line := range strings.Lines(string(body)) {
			if strings.HasPrefix(line, "leader_election_master_status") {
				reported = append(reported, strings.TrimSpace(line))
			}
		}
		return fmt.Errorf("leader_election_master_status is not %d for %v: %w (reported: %v)", want, names, err, reported)
	}
	return nil
}
