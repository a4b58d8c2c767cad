package main

import (
	"errors"
	"io"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// Options configures one benchmark run.
type Options struct {
	// Flags are -quick, -only "bolt" or "etcd", -dir and -v.
	benchkit.Flags
	// Duration is how long each throughput point runs. Default 2s, or
	// 300ms with Quick.
	Duration time.Duration
	// Store adds the object-level rows (storage.Store with the protobuf
	// codec over each backend). Default true.
	Store bool
	// EtcdBinary is the etcd server to start. Default /usr/bin/etcd.
	EtcdBinary string
	// Watchers, WatchRate and WatchDuration shape the watch latency run:
	// that many prefix watchers while writes arrive at WatchRate per
	// second for WatchDuration. Defaults 100, 1000/s and 5s (1s with Quick).
	Watchers      int
	WatchRate     int
	WatchDuration time.Duration

	// Derived by complete.
	listSizes  []int // key counts of the list rows; the last is also the memory load
	listRuns   []int // runs per list size, the median is reported
	latencyOps int   // single-writer creates and fsyncs measured
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/storage", stderr, targetBolt, targetEtcd)
	fs.DurationVar(&o.Duration, "duration", 0, "duration of each throughput point (default 2s, 300ms with -quick)")
	fs.BoolVar(&o.Store, "store", true, "also measure the object-level path (storage.Store, protobuf ConfigMaps)")
	fs.StringVar(&o.EtcdBinary, "etcd", "/usr/bin/etcd", "etcd server binary")
	fs.IntVar(&o.Watchers, "watchers", 100, "watchers in the watch latency run")
	fs.IntVar(&o.WatchRate, "watch-rate", 1000, "writes per second in the watch latency run")
	fs.DurationVar(&o.WatchDuration, "watch-duration", 0, "length of the watch latency run (default 5s, 1s with -quick)")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	o.complete()
	return o, o.Validate()
}

// complete fills defaults and the derived fields.
func (o *Options) complete() {
	if o.Duration == 0 {
		o.Duration = benchkit.Pick(o.Quick, 300*time.Millisecond, 2*time.Second)
	}
	if o.WatchDuration == 0 {
		o.WatchDuration = benchkit.Pick(o.Quick, time.Second, 5*time.Second)
	}
	o.listSizes = benchkit.Pick(o.Quick, []int{1000, 10000}, []int{10000, 100000})
	o.listRuns = benchkit.Pick(o.Quick, []int{3, 3}, []int{5, 3})
	o.latencyOps = benchkit.Pick(o.Quick, 200, 2000)
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != targetBolt && o.Only != targetEtcd:
		return errors.New(`-only must be "bolt" or "etcd"`)
	case o.Duration <= 0, o.WatchDuration <= 0:
		return errors.New("durations must be positive")
	case o.Watchers < 1, o.WatchRate < 1:
		return errors.New("-watchers and -watch-rate must be positive")
	case o.Dir == "":
		return errors.New("-dir is required")
	}
	return nil
}
