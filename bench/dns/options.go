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
	// Flags are -quick, -only (only "tug"), -dir (unused: the store is
	// in memory) and -v.
	benchkit.Flags
	// Services is how many Services the store holds. Default 10000 (1000
	// with Quick).
	Services int
	// Namespaces is how many namespaces they are spread over. Default 100
	// (10 with Quick).
	Namespaces int
	// HeadlessEvery makes every n-th Service headless. Default 10.
	HeadlessEvery int
	// Endpoints is how many endpoints each Service's slice has. Default 10.
	Endpoints int
	// Clients is how many concurrent UDP clients ask, each on its own
	// socket, one query at a time. Default 8.
	Clients int
	// Duration is how long each kind of query is measured. Default 10s
	// (2s with Quick).
	Duration time.Duration
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/dns", stderr, target)
	fs.IntVar(&o.Services, "services", 0, "Services in the store (default 10000, 1000 with -quick)")
	fs.IntVar(&o.Namespaces, "namespaces", 0, "namespaces the Services are spread over (default 100, 10 with -quick)")
	fs.IntVar(&o.HeadlessEvery, "headless-every", 10, "every n-th Service is headless")
	fs.IntVar(&o.Endpoints, "endpoints", 10, "endpoints per Service")
	fs.IntVar(&o.Clients, "clients", 8, "concurrent UDP clients")
	fs.DurationVar(&o.Duration, "duration", 0, "measuring time per kind of query (default 10s, 2s with -quick)")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	if o.Services == 0 {
		o.Services = benchkit.Pick(o.Quick, 1000, 10000)
	}
	if o.Namespaces == 0 {
		o.Namespaces = benchkit.Pick(o.Quick, 10, 100)
	}
	if o.Duration == 0 {
		o.Duration = benchkit.Pick(o.Quick, 2*time.Second, 10*time.Second)
	}
	return o, o.Validate()
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != target:
		return errors.New(`-only must be "tug"`)
	case o.Services < o.HeadlessEvery || o.Namespaces < 1 || o.HeadlessEvery < 2 || o.Clients < 1:
		return errors.New("-services, -namespaces and -clients must be positive, -headless-every at least 2 and at most -services")
	case o.Services > 60000:
		return errors.New("-services must be at most 60000 (the cluster IPs of 10.43.0.0/16)")
	case o.Endpoints < 1 || o.Services*o.Endpoints > 1<<22:
		return errors.New("-endpoints must be positive, and at most 4Mi in all (the pod IPs of 100.64.0.0/10)")
	case o.Duration <= 0:
		return errors.New("-duration must be positive")
	}
	return nil
}
