// Package metrics exports the API server's Prometheus metrics: requests by
// verb, resource and code, open long-running requests, and storage latency,
// named as kube-apiserver names them so that its dashboards work unchanged.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"
)

// component is the value of the component label, as kube-apiserver reports it.
const component = "apiserver"

// requestBuckets are kube-apiserver's apiserver_request_duration_seconds
// buckets, so that SLO recording rules written for it apply.
var requestBuckets = []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
	4, 5, 6, 8, 10, 15, 20, 30, 45, 60}

// storageBuckets reach down to 100µs: a local bolt read takes microseconds
// and a synced write a few milliseconds, far below the request buckets.
var storageBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics owns one registry and the API server's collectors in it. It is
// safe for concurrent use; build one per server with New.
type Metrics struct {
	registry *prometheus.Registry
	clock    clock.PassiveClock

	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	longRunning *prometheus.GaugeVec

	storage  storageMetrics
	revision *revisionCollector
}

// New returns Metrics with its own registry, which also holds the Go
// runtime and process collectors. The process-wide default registry is
// never used, so that servers in one test binary do not share counters.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		clock:    clock.RealClock{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
		}, []string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_request_duration_seconds",
			Help:    "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
			Buckets: requestBuckets,
		}, []string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"}),
		longRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_longrunning_requests",
			Help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.",
		}, []string{"verb", "group", "version", "resource", "subresource", "scope", "component"}),
		storage:  newStorageMetrics(),
		revision: &revisionCollector{desc: revisionDesc},
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.durations, m.longRunning,
		m.storage.durations, m.storage.operations, m.storage.watchers,
		m.revision,
	)
	return m
}

// Handler serves the registry in the Prometheus exposition formats; mount
// it at /metrics. A collector that fails is reported in
// promhttp_metric_handler_errors_total and the rest is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:      m.registry,
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Registerer lets other components (watch cache, scheduler, controllers)
// add their collectors to the registry Handler serves.
func (m *Metrics) Registerer() prometheus.Registerer { return m.registry }
