package benchkit

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (nearest rank) of ds, which it
// sorts; 0 when ds is empty.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// Latencies is a p50/p99 pair.
type Latencies struct {
	P50, P99 time.Duration
}

// Summarize returns the p50 and p99 of ds, which it sorts.
func Summarize(ds []time.Duration) Latencies {
	return Latencies{P50: Percentile(ds, 50), P99: Percentile(ds, 99)}
}
