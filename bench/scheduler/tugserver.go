package main

import (
	"context"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/testutil"
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
	if err := testutil.SetLeaseHolder(ctx, c.Client, schedulerLease, "tug-bench-holds-the-backlog"); err != nil {
		return err
	}
	return testutil.WaitLeading(ctx, c.Client, 0, time.Minute, schedulerLease)
}

func (tugServerScheduler) start(ctx context.Context, c *benchkit.Cluster, _ string) (func() error, int, error) {
	if err := testutil.SetLeaseHolder(ctx, c.Client, schedulerLease, ""); err != nil {
		return nil, 0, err
	}
	return func() error { return nil }, c.Server.PID(), nil
}
