package main

import (
	"errors"
	"io"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// Where -tug-scheduler runs tug's scheduler.
const (
	tugInServer = "server"
	tugInBench  = "bench"
)

// Target names, as -only takes them.
const (
	targetTug      = "tug"
	targetUpstream = "kube-scheduler"
)

// Options configures one benchmark run.
type Options struct {
	// Flags are -quick, -only "tug" or "kube-scheduler" (default both,
	// kube-scheduler only when its binary is found), -dir and -v.
	benchkit.Flags
	// Clients is how many concurrent clients create the pods. Default 64.
	Clients int
	// SteadyPods is how many pods the latency phase creates, one every
	// 1/SteadyRate seconds, after the backlog is scheduled. Default 1000
	// (200 with Quick).
	SteadyPods int
	// SteadyRate is the latency phase's pod creations per second. Default
	// 100.
	SteadyRate int
	// TugBinary is a prebuilt tug to run. Default "": build ./cmd/tug.
	TugBinary string
	// UpstreamDir holds bin/kube-scheduler, as shared/conformance/build.sh
	// makes it. Default /var/cache/tug-upstream.
	UpstreamDir string
	// Keep leaves the data directories behind. Default false.
	Keep bool
	// Shape runs only the shape of that name. Default "": every shape.
	Shape string
	// TugScheduler is where tug's scheduler runs: "server", inside tug
	// server as shipped (default), or "bench", in this process.
	TugScheduler string
	// CPUProfile, if set, is where a CPU profile of this process is
	// written (with -tug-scheduler bench, tug's scheduler runs here).
	CPUProfile string
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/scheduler", stderr, targetTug, targetUpstream)
	fs.IntVar(&o.Clients, "clients", 64, "concurrent clients creating pods")
	fs.IntVar(&o.SteadyPods, "steady-pods", 0, "pods of the latency phase (default 1000, 200 with -quick)")
	fs.IntVar(&o.SteadyRate, "steady-rate", 100, "pod creations per second in the latency phase")
	fs.StringVar(&o.TugBinary, "tug", "", "prebuilt tug binary (default: build ./cmd/tug)")
	fs.StringVar(&o.UpstreamDir, "upstream-dir", "/var/cache/tug-upstream", "directory holding bin/kube-scheduler")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directories")
	fs.StringVar(&o.Shape, "shape", "", "run only this shape (SchedulingBasic or AntiAffinityAndSpread)")
	fs.StringVar(&o.TugScheduler, "tug-scheduler", tugInServer, `where tug's scheduler runs: "server" (inside tug server, as shipped) or "bench" (in this process)`)
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of this process (tug's scheduler with -tug-scheduler bench) to this file")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	if o.SteadyPods == 0 {
		o.SteadyPods = benchkit.Pick(o.Quick, 200, 1000)
	}
	switch {
	case o.Clients < 1 || o.SteadyRate < 1:
		return o, errors.New("-clients and -steady-rate must be positive")
	case o.Only != "" && o.Only != targetTug && o.Only != targetUpstream:
		return o, errors.New(`-only takes "tug" or "kube-scheduler"`)
	case o.TugScheduler != tugInServer && o.TugScheduler != tugInBench:
		return o, errors.New(`-tug-scheduler takes "server" or "bench"`)
	}
	return o, nil
}
