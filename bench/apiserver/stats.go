package main

import (
	"slices"
	"time"
)

// percentile returns the p-th percentile (nearest rank) of ds, which it
// sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// latencies is a p50/p99 pair.
type latencies struct {
	p50, p99 time.Duration
}

func summarize(ds []time.Duration) latencies {
	return latencies{p50: percentile(ds, 50), p99: percentile(ds, 99)}
}
