package main

import (
	"context"
	"errors"
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/memtrim"
	"github.com/tugcluster/tug/internal/scheduler"
	"github.com/tugcluster/tug/internal/scheduler/plugins"
)

// tugScheduler runs tug's scheduler — the one `tug server` runs under its
// lease, with the default profile — in this process (-tug-scheduler
// bench), so that like kube-scheduler it is a separate process from the
// API server and -cpuprofile profiles it. It pays what a separate process
// pays: TLS, and decoding every watched object.
type tugScheduler struct{ separateProcess }

func (tugScheduler) describe() string {
	return "tug's scheduler (internal/scheduler, default profile) in the benchmark process"
}

func (tugScheduler) start(ctx context.Context, c *benchkit.Cluster, _ string) (func() error, int, error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.UserAgent = "tug-scheduler-bench"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, 0, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(func(obj any) (any, error) {
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetManagedFields(nil) // as tug server's informers: no plugin reads them
		}
		return obj, nil
	}))
	profile := plugins.DefaultProfile()
	// The scheduler runs inside tug server, under the server's collection
	// target; here it shares the benchmark process with the observer.
	restoreGC := memtrim.SetServerGCPercent()
	ctx, cancel := context.WithCancel(ctx)
	s, err := scheduler.New(ctx, scheduler.Options{Client: client, InformerFactory: factory, Registry: plugins.Registry(), Profile: &profile})
	if err != nil {
		cancel()
		restoreGC()
		return nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() error {
		cancel()
		defer restoreGC()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}, os.Getpid(), nil
}
