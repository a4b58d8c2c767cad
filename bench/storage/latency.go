package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tugcluster/tug/internal/storage"
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

// createLatency times n sequential creates under prefix.
func createLatency(ctx context.Context, be storage.Backend, prefix string, n int) (latencies, error) {
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if _, err := be.Create(ctx, seqKey(prefix, int64(i)), benchValue, 0); err != nil {
			return latencies{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return summarize(ds), nil
}

// fsyncLatency times n appends of one value to a preallocated file in dir,
// each followed by fdatasync: the floor under any durable write there.
func fsyncLatency(dir string, n int) (latencies, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return latencies{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	size := int64(n+1) * valueSize
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		return latencies{}, fmt.Errorf("preallocate %s: %w", filepath.Base(f.Name()), err)
	}
	// Make the preallocation itself durable, as a write-ahead log does
	// when it starts a segment.
	if err := f.Sync(); err != nil {
		return latencies{}, err
	}
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if _, err := f.WriteAt(benchValue, int64(i)*valueSize); err != nil {
			return latencies{}, err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return latencies{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return summarize(ds), nil
}
