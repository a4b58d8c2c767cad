package server

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/scheduler"
	"github.com/tugcluster/tug/internal/scheduler/plugins"
)

// runScheduler schedules pods while this server holds the scheduler
// lease, until ctx ends (see runLeading). The scheduler talks to the API
// server only through cfg, with its own client: protobuf and a high rate
// limit, since binding is its hot path.
func runScheduler(ctx context.Context, cfg *rest.Config, stores map[schema.GroupVersionResource]*registry.Store, identity string, leading *prometheus.GaugeVec) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "tug-scheduler"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("scheduler client: %w", err)
	}
	return runLeading(ctx, client, schedulerLease, identity, leading, func(ctx context.Context) error {
		return schedule(ctx, client, stores)
	})
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
