package main

import (
	"errors"
	"io"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// target is the one thing measured, as -only takes it.
const target = "tug"

// nodePods is each simulated node's pod capacity, as kubelet's default.
const nodePods = 110

// Options configures one benchmark run.
type Options struct {
	// Flags are -quick, -only (only "tug"), -dir and -v.
	benchkit.Flags
	// Nodes is how many simulated nodes the agent runs. Default 1000 (200
	// with Quick).
	Nodes int
	// Replicas is the Deployment's size once scaled up. Default 30000
	// (3000 with Quick).
	Replicas int
	// Objects is how many objects, half ConfigMaps and half Secrets, the
	// deleted namespace holds. Default 10000 (1000 with Quick).
	Objects int
	// Clients is how many concurrent clients create the objects. Default
	// 32.
	Clients int
	// Timeout bounds each phase. Default 20m.
	Timeout time.Duration
	// TugBinary is a prebuilt tug to run. Default "": build ./cmd/tug.
	TugBinary string
	// Keep leaves the run directory (data, logs) behind. Default false.
	Keep bool
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/controllers", stderr, target)
	fs.IntVar(&o.Nodes, "nodes", 0, "simulated nodes (default 1000, 200 with -quick)")
	fs.IntVar(&o.Replicas, "replicas", 0, "replicas the Deployment is scaled to (default 30000, 3000 with -quick)")
	fs.IntVar(&o.Objects, "objects", 0, "ConfigMaps and Secrets in the deleted namespace (default 10000, 1000 with -quick)")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients creating the namespace's objects")
	fs.DurationVar(&o.Timeout, "timeout", 20*time.Minute, "bound on each phase")
	fs.StringVar(&o.TugBinary, "tug", "", "prebuilt tug binary (default: go build ./cmd/tug)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the run directory (data and logs)")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	if o.Nodes == 0 {
		o.Nodes = benchkit.Pick(o.Quick, 200, 1000)
	}
	if o.Replicas == 0 {
		o.Replicas = benchkit.Pick(o.Quick, 3000, 30000)
	}
	if o.Objects == 0 {
		o.Objects = benchkit.Pick(o.Quick, 1000, 10000)
	}
	return o, o.Validate()
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != target:
		return errors.New(`-only must be "tug"`)
	case o.Nodes < 1, o.Replicas < 1, o.Objects < 2, o.Clients < 1:
		return errors.New("-nodes, -replicas and -clients must be positive, -objects at least 2")
	case o.Replicas > o.Nodes*nodePods:
		return errors.New("-replicas must be at most 110 per node")
	case o.Nodes > 16384:
		return errors.New("-nodes must be at most 16384 (the pod CIDRs of the cluster CIDR)")
	case o.Timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.Dir == "":
		return errors.New("-dir is required")
	}
	return nil
}
