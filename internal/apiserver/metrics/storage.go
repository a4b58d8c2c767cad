package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tugcluster/tug/internal/storage"
)

// operation indexes the timed storage.Backend methods.
type operation int

const (
	opGet operation = iota
	opRange
	opCount
	opCreate
	opUpdate
	opDelete
	numOperations
)

var operationNames = [numOperations]string{"get", "range", "count", "create", "update", "delete"}

// storageMetrics holds the storage collectors and, per operation, the
// series resolved once so that a call does not look them up.
type storageMetrics struct {
	durations  *prometheus.HistogramVec
	operations *prometheus.CounterVec
	watchers   prometheus.Gauge

	observe [numOperations]prometheus.Observer
	ok      [numOperations]prometheus.Counter
	failed  [numOperations]prometheus.Counter
}

func newStorageMetrics() storageMetrics {
	s := storageMetrics{
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tug_storage_operation_duration_seconds",
			Help:    "Latency of storage backend calls in seconds by operation; a range includes the time of its callbacks.",
			Buckets: storageBuckets,
		}, []string{"operation"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tug_storage_operations_total",
			Help: "Storage backend calls by operation and result (ok or error; a conflict or an existing key is an error).",
		}, []string{"operation", "result"}),
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tug_storage_watchers",
			Help: "Open storage backend watches.",
		}),
	}
	for op, name := range operationNames {
		s.observe[op] = s.durations.WithLabelValues(name)
		s.ok[op] = s.operations.WithLabelValues(name, "ok")
		s.failed[op] = s.operations.WithLabelValues(name, "error")
	}
	return s
}

// revisionDesc describes tug_storage_revision.
var revisionDesc = prometheus.NewDesc("tug_storage_revision", "Current revision of the storage backend.", nil, nil)

// revisionTimeout bounds the Revision call of one scrape; an etcd backend
// asks the cluster.
const revisionTimeout = 5 * time.Second

// revisionCollector reads the backend's revision at each scrape. Until
// InstrumentBackend gives it a backend, and when the backend fails (closed),
// it reports nothing.
type revisionCollector struct {
	desc    *prometheus.Desc
	backend atomicBackend
}

func (c *revisionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *revisionCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.backend.Load()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), revisionTimeout)
	defer cancel()
	rev, err := b.Revision(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(rev))
}

// InstrumentBackend returns b timed and counted: every Get, Range (the
// whole call, callbacks included), Count, Create, Update and Delete in
// tug_storage_operation_duration_seconds and tug_storage_operations_total;
// open watches in tug_storage_watchers; and b's revision, read at each
// scrape, in tug_storage_revision (the last backend instrumented is the
// one reported). The result keeps b's Compact method when b has one.
func (m *Metrics) InstrumentBackend(b storage.Backend) storage.Backend {
	m.revision.backend.Store(&backendRef{b})
	ib := newInstrumentedBackend(b, &m.storage)
	if c, ok := b.(compactor); ok {
		return &compactingBackend{instrumentedBackend: ib, compactor: c}
	}
	return ib
}

// compactor is the optional method backends offer for discarding history;
// storagetest and the server look for it.
type compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// compactingBackend passes Compact through, untimed.
type compactingBackend struct {
	*instrumentedBackend
	compactor
}

var (
	_ storage.Backend = (*instrumentedBackend)(nil)
	_ storage.Backend = (*compactingBackend)(nil)
	_ compactor       = (*compactingBackend)(nil)
)
