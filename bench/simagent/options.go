package main

import (
	"errors"
	"io"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// target is the one thing measured, as -only takes it.
const target = "tug"

// Options configures one benchmark run.
type Options struct {
	// Flags are -quick, -only (only "tug"), -dir and -v.
	benchkit.Flags
	// Nodes is how many simulated nodes the agent runs. Default 5000 (100
	// with Quick).
	Nodes int
	// Pods is how many pods are created, bound round robin to the nodes.
	// Default 150000 (2000 with Quick).
	Pods int
	// Clients is how many concurrent clients create pods, each on its own
	// connection. Default 32.
	Clients int
	// Timeout bounds each wait (nodes Ready, pods Running). Default 30m.
	Timeout time.Duration
	// TugBinary is a prebuilt tug to run. Default "": build ./cmd/tug.
	TugBinary string
	// Keep leaves the run directory (data, logs) behind. Default false.
	Keep bool
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/simagent", stderr, target)
	fs.IntVar(&o.Nodes, "nodes", 0, "simulated nodes (default 5000, 100 with -quick)")
	fs.IntVar(&o.Pods, "pods", 0, "pods created, bound round robin to the nodes (default 150000, 2000 with -quick)")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients creating pods")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "bound on each wait")
	fs.StringVar(&o.TugBinary, "tug", "", "prebuilt tug binary (default: go build ./cmd/tug)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the run directory (data and logs)")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	if o.Nodes == 0 {
		o.Nodes = benchkit.Pick(o.Quick, 100, 5000)
	}
	if o.Pods == 0 {
		o.Pods = benchkit.Pick(o.Quick, 2000, 150000)
	}
	return o, o.Validate()
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != target:
		return errors.New(`-only must be "tug"`)
	case o.Nodes < 1, o.Pods < 1, o.Clients < 1:
		return errors.New("-nodes, -pods and -clients must be positive")
	case o.Pods > o.Nodes*110:
		return errors.New("-pods must be at most 110 per node")
	case o.Nodes > 16384:
		return errors.New("-nodes must be at most 16384 (the pod CIDRs of the cluster CIDR)")
	case o.Timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.Dir == "":
		return errors.New("-dir is required")
	}
	return nil
}
