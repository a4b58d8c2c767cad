package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// The leases of the components one server of a cluster runs at a time,
// all in kube-system, and their timing (kube-scheduler's and
// kube-controller-manager's defaults).
const (
	leaseNamespace     = "kube-system"
	schedulerLease     = "tug-scheduler"
	controllersLease   = "tug-controller-manager"
	leaseDuration      = 15 * time.Second
	leaseRenewDeadline = 10 * time.Second
	leaseRetryPeriod   = 2 * time.Second
)

// newLeadingGauge registers leader_election_master_status, named and
// labeled as Kubernetes components export it: 1 while this server runs
// the component of the lease named by the label, 0 otherwise.
func newLeadingGauge(reg prometheus.Registerer) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "leader_election_master_status",
		Help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
	}, []string{"name"})
	reg.MustRegister(g)
	return g
}

// leaderIdentity names this server in the leases it holds: the host and
// a digest of its data directory, which no other server shares (the data
// directory is locked while in use). Being the same across restarts, a
// server killed while holding a lease takes it straight back when it
// comes up again instead of waiting for it to expire.
func leaderIdentity(dataDir string) string {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "tug"
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return hostname + "_" + hex.EncodeToString(sum[:6])
}

// runLeading runs work while this server, as identity, holds the Lease
// kube-system/name, until ctx ends. Each time the lease is won, work runs
// with a context that ends when it is lost; losing it, the server
// campaigns again and runs work afresh (its caches may be stale by then).
// work returning an error ends runLeading with it.
func runLeading(ctx context.Context, client kubernetes.Interface, name, identity string, leading *prometheus.GaugeVec, work func(context.Context) error) error {
	logger := klog.FromContext(ctx).WithValues("lease", leaseNamespace+"/"+name, "identity", identity)
	gauge := leading.WithLabelValues(name)
	gauge.Set(0)
	for ctx.Err() == nil {
		if err := leadOnce(ctx, client, name, identity, gauge, work); err != nil {
			return err
		}
		if ctx.Err() == nil {
			logger.Info("Lost the lease; stopped, campaigning again")
		}
	}
	return nil
}

// leadOnce campaigns for the lease and, once it holds it, runs work until
// the lease is lost or ctx ends. It returns after the elector and work
// have stopped.
//
// client-go's elector, finding the lease held by another identity, keeps
// trying to renew until its renew deadline passes (10 s), and until then
// the old leader would go on working beside the new one. Here work stops
// as soon as the elector reads another holder from the lease.
func leadOnce(ctx context.Context, client kubernetes.Interface, name, identity string, gauge prometheus.Gauge, work func(context.Context) error) error {
	electCtx, stopElecting := context.WithCancel(ctx)
	defer stopElecting()
	var mu sync.Mutex
	var stopWork context.CancelFunc // set while work runs
	lock := &holderWatchingLock{
		Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: leaseNamespace, Name: name},
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
		},
		otherHolder: func() {
			mu.Lock()
			defer mu.Unlock()
			if stopWork != nil {
				stopWork()
				stopElecting()
			}
		},
	}
	leading := make(chan context.Context, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   leaseRenewDeadline,
		RetryPeriod:     leaseRetryPeriod,
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			// The elector runs this on a goroutine it does not wait for;
			// hand the lease's context over to be run here instead.
			OnStartedLeading: func(leaseCtx context.Context) { leading <- leaseCtx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("%s leader election: %w", name, err)
	}
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		elector.Run(electCtx)
	}()
	var workErr error
	select {
	case leaseCtx := <-leading:
		workCtx, cancel := context.WithCancel(leaseCtx)
		mu.Lock()
		stopWork = cancel
		mu.Unlock()
		klog.FromContext(ctx).V(2).Info("Acquired the lease", "lease", leaseNamespace+"/"+name, "identity", identity)
		gauge.Set(1)
		workErr = work(workCtx)
		gauge.Set(0)
		cancel()
		if workErr != nil && workCtx.Err() != nil {
			workErr = nil // stopped because the lease was lost or ctx ended
		}
	case <-electorDone:
	}
	stopElecting()
	<-electorDone
	return workErr
}

// holderWatchingLock is a lease lock that calls otherHolder whenever a
// read of the lease finds it held by another identity. (The elector reads
// the lease when an update of it fails, as one does once another server
// has written it; it reports a new holder only after its renew deadline.)
type holderWatchingLock struct {
	resourcelock.Interface
	otherHolder func()
}

// Get implements resourcelock.Interface.
func (l *holderWatchingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	record, raw, err := l.Interface.Get(ctx)
	if err == nil && record.HolderIdentity != "" && record.HolderIdentity != l.Identity() {
		l.otherHolder()
	}
	return record, raw, err
}
