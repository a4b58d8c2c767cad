package main

import (
	"errors"
	"io"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// Target names, as -only takes them.
const (
	targetTug      = "tug"
	targetUpstream = "upstream"
)

// Options configures one benchmark run.
type Options struct {
	// Flags are -quick, -only "tug" or "upstream" (default both, upstream
	// only when its binaries are found), -dir and -v.
	benchkit.Flags
	// Pods is how many pods the create phase makes; they are listed and
	// weighed afterwards. Default 10000 (1000 with Quick).
	Pods int
	// Watchers is how many watches the fan-out phase opens. Default 1000
	// (100 with Quick).
	Watchers int
	// WatchUpdates is how many pod updates the fan-out phase writes, one
	// at a time. Default 1000 (100 with Quick).
	WatchUpdates int
	// Clients is how many concurrent clients create and get pods, each on
	// its own connection. Default 64.
	Clients int
	// Starts is how many fresh starts the start-to-ready figure is the
	// median of. Default 5 (2 with Quick).
	Starts int
	// Lists is how many lists each list figure is the median of. Default 5
	// (3 with Quick).
	Lists int
	// GetDuration is how long the get phase runs. Default 5s (1s with
	// Quick).
	GetDuration time.Duration
	// TugBinary is a prebuilt tug to run. Default "": build ./cmd/tug.
	TugBinary string
	// UpstreamDir holds bin/kube-apiserver and bin/etcd (else
	// /usr/bin/etcd), as shared/conformance/build.sh makes them. Default
	// /var/cache/tug-upstream.
	UpstreamDir string
	// Keep leaves the data directories behind. Default false.
	Keep bool
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/apiserver", stderr, targetTug, targetUpstream)
	fs.IntVar(&o.Pods, "pods", 0, "pods created, listed and weighed (default 10000, 1000 with -quick)")
	fs.IntVar(&o.Watchers, "watchers", 0, "watchers of the fan-out phase (default 1000, 100 with -quick)")
	fs.IntVar(&o.WatchUpdates, "watch-updates", 0, "pod updates of the fan-out phase (default 1000, 100 with -quick)")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent clients of the create and get phases")
	fs.IntVar(&o.Starts, "starts", 0, "fresh starts timed for start-to-ready (default 5, 2 with -quick)")
	fs.IntVar(&o.Lists, "lists", 0, "runs of each list figure (default 5, 3 with -quick)")
	fs.DurationVar(&o.GetDuration, "get-duration", 0, "length of the get phase (default 5s, 1s with -quick)")
	fs.StringVar(&o.TugBinary, "tug", "", "prebuilt tug binary (default: go build ./cmd/tug)")
	fs.StringVar(&o.UpstreamDir, "upstream-dir", "/var/cache/tug-upstream", "holds bin/kube-apiserver and bin/etcd")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directories")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	o.complete()
	return o, o.Validate()
}

// complete fills defaults.
func (o *Options) complete() {
	def := func(v *int, small, full int) {
		if *v == 0 {
			*v = benchkit.Pick(o.Quick, small, full)
		}
	}
	def(&o.Pods, 1000, 10000)
	def(&o.Watchers, 100, 1000)
	def(&o.WatchUpdates, 100, 1000)
	def(&o.Starts, 2, 5)
	def(&o.Lists, 3, 5)
	if o.GetDuration == 0 {
		o.GetDuration = benchkit.Pick(o.Quick, time.Second, 5*time.Second)
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != targetTug && o.Only != targetUpstream:
		return errors.New(`-only must be "tug" or "upstream"`)
	case o.Pods < 1, o.Watchers < 1, o.WatchUpdates < 1, o.Clients < 1, o.Starts < 1, o.Lists < 1:
		return errors.New("-pods, -watchers, -watch-updates, -clients, -starts and -lists must be positive")
	case o.GetDuration <= 0:
		return errors.New("-get-duration must be positive")
	case o.Dir == "":
		return errors.New("-dir is required")
	}
	return nil
}
