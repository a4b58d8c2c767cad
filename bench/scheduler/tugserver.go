package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// schedulerLease is the Lease under which tug server schedules.
const schedulerLease = "tug-scheduler"

// tugServerScheduler is tug's scheduler as shipped: inside tug server,
// reading the server's watch cache and writing through its in-memory
// client. To let the backlog be created pending, the benchmark holds the
// scheduler's lease as a second server would (tug server stops scheduling
// as soon as it sees another holder) and releases it to start the run; the
// server then wins it back and starts a fresh scheduler.
type tugServerScheduler struct{}

func (tugServerScheduler) describe() string {
	return "tug's scheduler inside tug server (as shipped), started by releasing its lease"
}

func (tugServerScheduler) serverArgs() []string { return nil }

// hold takes the scheduler's lease and waits until the server reports that
// it has stopped scheduling.
func (tugServerScheduler) hold(ctx context.Context, c *benchkit.Cluster) error {
	if err := setSchedulerLeaseHolder(ctx, c, "tug-bench-holds-the-backlog"); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		body, err := c.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return false, err
		}
		return strings.Contains(string(body), fmt.Sprintf("leader_election_master_status{name=%q} 0\n", schedulerLease)), nil
	})
}

func (tugServerScheduler) start(ctx context.Context, c *benchkit.Cluster, _ string) (func() error, int, error) {
	if err := setSchedulerLeaseHolder(ctx, c, ""); err != nil {
		return nil, 0, err
	}
	return func() error { return nil }, c.Server.PID(), nil
}

// setSchedulerLeaseHolder writes holder into the scheduler's lease,
// renewed now for an hour; an empty holder releases it.
func setSchedulerLeaseHolder(ctx context.Context, c *benchkit.Cluster, holder string) error {
	leases := c.Client.CoordinationV1().Leases("kube-system")
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		lease, err := leases.Get(ctx, schedulerLease, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil // the server has not campaigned yet
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
			return false, nil // the server renewed it meanwhile
		}
		return err == nil, err
	})
}
