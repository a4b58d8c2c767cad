package server

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/scheduler"
	"github.com/tugcluster/tug/internal/scheduler/plugins"
)

// The scheduler's lease: one server of a cluster schedules at a time.
const (
	schedulerLeaseNamespace = "kube-system"
	schedulerLeaseName      = "tug-scheduler"
	schedulerLeaseDuration  = 15 * time.Second
	schedulerRenewDeadline  = 10 * time.Second
	schedulerRetryPeriod    = 2 * time.Second
)

// runScheduler schedules pods while this server holds the scheduler
// lease, until ctx ends. Losing the lease stops scheduling at once; the
// server then campaigns again with a fresh scheduler (its caches may be
// stale by then). The scheduler talks to the API server only through cfg,
// with its own client: protobuf and a high rate limit, since binding is
// its hot path.
func runScheduler(ctx context.Context, cfg *rest.Config, stores map[schema.GroupVersionResource]*registry.Store) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "tug-scheduler"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("scheduler client: %w", err)
	}
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "tug"
	}
	identity := hostname + "_" + string(uuid.NewUUID())
	logger := klog.FromContext(ctx).WithValues("lease", schedulerLeaseNamespace+"/"+schedulerLeaseName, "identity", identity)
	for ctx.Err() == nil {
		if err := leadAndSchedule(ctx, client, stores, identity); err != nil {
			return err
		}
		if ctx.Err() == nil {
			logger.Info("Lost the scheduler lease; scheduling stopped, campaigning again")
		}
	}
	return nil
}

// leadAndSchedule campaigns for the lease and, once it holds it, runs a
// scheduler until the lease is lost or ctx ends. It returns after the
// elector and the scheduler have stopped.
func leadAndSchedule(ctx context.Context, client kubernetes.Interface, stores map[schema.GroupVersionResource]*registry.Store, identity string) error {
	leading := make(chan context.Context, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: schedulerLeaseNamespace, Name: schedulerLeaseName},
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
		},
		LeaseDuration:   schedulerLeaseDuration,
		RenewDeadline:   schedulerRenewDeadline,
		RetryPeriod:     schedulerRetryPeriod,
		ReleaseOnCancel: true,
		Name:            schedulerLeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			// The elector runs this on a goroutine it does not wait for;
			// hand the lease's context over to be run here instead.
			OnStartedLeading: func(leaseCtx context.Context) { leading <- leaseCtx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("scheduler leader election: %w", err)
	}
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		elector.Run(ctx)
	}()
	var runErr error
	select {
	case leaseCtx := <-leading:
		klog.FromContext(ctx).V(2).Info("Acquired the scheduler lease", "identity", identity)
		runErr = schedule(leaseCtx, client, stores)
	case <-electorDone:
	}
	<-electorDone
	return runErr
}

// schedule runs one scheduler with its own informers, reading stores,
// until ctx ends.
func schedule(ctx context.Context, client kubernetes.Interface, stores map[schema.GroupVersionResource]*registry.Store) error {
	factory := newSharedInformerFactory(client, stores, 0)
	profile := plugins.DefaultProfile()
	s, err := scheduler.New(ctx, scheduler.Options{
		Client:          client,
		InformerFactory: factory,
		Registry:        plugins.Registry(),
		Profile:         &profile,
	})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
