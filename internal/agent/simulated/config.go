package simulated

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Config describes the simulated nodes. New fills the zero fields marked
// with a default; the others are required.
type Config struct {
	// Nodes is how many nodes to simulate; at most MaxNodes. Required.
	Nodes int
	// NamePrefix starts each node's name: node i is NamePrefix followed by
	// i zero-padded to four digits (sim-0000). Required.
	NamePrefix string
	// Capacity is every node's capacity, and its allocatable too. Default:
	// nothing, which no pod fits; the agent passes cpu, memory, pods and
	// ephemeral-storage.
	Capacity corev1.ResourceList
	// Zones is how many zones (zone-a, zone-b, …) the nodes are spread
	// over, round robin. Default 1.
	Zones int
	// Labels are added to every node's own labels (and win over them).
	Labels map[string]string
	// Taints are set on every node when it registers.
	Taints []corev1.Taint
	// PodCompletionTime is how long a pod with restartPolicy Never or
	// OnFailure runs before it succeeds. Default 1s.
	PodCompletionTime time.Duration
	// LeaseDuration is each node's Lease duration; leases are renewed
	// every quarter of it, with jitter. Default 40s.
	LeaseDuration time.Duration
	// StatusReportInterval is how often a node posts its status when
	// nothing changed (its Ready heartbeat). Default 5m, as the kubelet.
	StatusReportInterval time.Duration
	// KubeletVersion is the version nodes report. Default "v0.0.0".
	KubeletVersion string
	// NodeWorkers and PodWorkers are how many nodes and pods are worked on
	// at once. Defaults 16 and 32: each worker mostly waits for the API
	// server, so these bound the requests in flight.
	NodeWorkers, PodWorkers int
	// StatsInterval is how often a summary (pods, memory) is logged.
	// Default 1m.
	StatsInterval time.Duration
	// Clock tells the time of heartbeats, lease renewals and completions.
	// Default the real clock.
	Clock clock.PassiveClock
	// Rand returns numbers in [0, 1) for lease renewal jitter. Default
	// math/rand/v2's Float64.
	Rand func() float64
}

// MaxNodes is how many nodes fit the node address range 198.18.0.0/15.
const MaxNodes = 1<<17 - 2

func (c Config) withDefaults() Config {
	if c.Zones == 0 {
		c.Zones = 1
	}
	if c.PodCompletionTime == 0 {
		c.PodCompletionTime = time.Second
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 40 * time.Second
	}
	if c.StatusReportInterval == 0 {
		c.StatusReportInterval = 5 * time.Minute
	}
	if c.KubeletVersion == "" {
		c.KubeletVersion = "v0.0.0"
	}
	if c.NodeWorkers == 0 {
		c.NodeWorkers = 16
	}
	if c.PodWorkers == 0 {
		c.PodWorkers = 32
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = time.Minute
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > MaxNodes:
		return fmt.Errorf("nodes must be between 1 and %d", MaxNodes)
	case c.NamePrefix == "":
		return errors.New("node name prefix is required")
	case c.Zones < 0, c.PodCompletionTime < 0, c.LeaseDuration < 0, c.StatusReportInterval < 0,
		c.NodeWorkers < 0, c.PodWorkers < 0, c.StatsInterval < 0:
		return errors.New("zones, durations and workers must not be negative")
	case c.LeaseDuration > 0 && c.LeaseDuration < 4*time.Second:
		return errors.New("lease duration must be at least 4s")
	}
	return nil
}
