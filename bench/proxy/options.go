package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// target is the one thing measured, as -only takes it.
const target = "tug"

// Options configure one benchmark run.
type Options struct {
	// Flags are -quick, -only (only "tug"), -dir (unused: nothing is
	// written) and -v.
	benchkit.Flags
	// Sizes are the numbers of Services, one table per size. Default 1000
	// and 10000 (100 and 1000 with Quick).
	Sizes []int
	// Endpoints is the number of ready endpoints per Service. Default 10.
	Endpoints int
	// Repeats is how many times each incremental change is measured, on
	// different Services. Default 20 (5 with Quick).
	Repeats int
}

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := o.FlagSet("bench/proxy", stderr, target)
	sizes := fs.String("services", "", "comma-separated Service counts (default 1000,10000; 100,1000 with -quick)")
	fs.IntVar(&o.Endpoints, "endpoints", 10, "ready endpoints per Service")
	fs.IntVar(&o.Repeats, "repeats", 0, "measurements of each incremental change (default 20, 5 with -quick)")
	if err := benchkit.Parse(fs, args); err != nil {
		return o, err
	}
	if *sizes == "" {
		*sizes = benchkit.Pick(o.Quick, "100,1000", "1000,10000")
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return o, fmt.Errorf("-services: %w", err)
		}
		o.Sizes = append(o.Sizes, n)
	}
	if o.Repeats == 0 {
		o.Repeats = benchkit.Pick(o.Quick, 5, 20)
	}
	return o, o.Validate()
}

// maxServices is what the service CIDR the benchmark uses (a /16) holds,
// less the addresses the incremental runs add.
const maxServices = 60000

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Only != "" && o.Only != target:
		return errors.New(`-only must be "tug"`)
	case len(o.Sizes) == 0:
		return errors.New("-services is empty")
	case o.Endpoints < 1 || o.Endpoints > 1000:
		return errors.New("-endpoints must be 1 to 1000")
	case o.Repeats < 1:
		return errors.New("-repeats must be positive")
	}
	for _, n := range o.Sizes {
		if n < o.Repeats || n > maxServices {
			return fmt.Errorf("-services: %d is not between -repeats (%d) and %d", n, o.Repeats, maxServices)
		}
	}
	return nil
}
