package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/storage"
)

// createLatency times n sequential creates under prefix.
func createLatency(ctx context.Context, be storage.Backend, prefix string, n int) (benchkit.Latencies, error) {
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if _, err := be.Create(ctx, seqKey(prefix, int64(i)), benchValue, 0); err != nil {
			return benchkit.Latencies{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return benchkit.Summarize(ds), nil
}

// fsyncLatency times n appends of one value to a preallocated file in dir,
// each followed by fdatasync: the floor under any durable write there.
func fsyncLatency(dir string, n int) (benchkit.Latencies, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return benchkit.Latencies{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	size := int64(n+1) * valueSize
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		return benchkit.Latencies{}, fmt.Errorf("preallocate %s: %w", filepath.Base(f.Name()), err)
	}
	// Make the preallocation itself durable, as a write-ahead log does
	// when it starts a segment.
	if err := f.Sync(); err != nil {
		return benchkit.Latencies{}, err
	}
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if _, err := f.WriteAt(benchValue, int64(i)*valueSize); err != nil {
			return benchkit.Latencies{}, err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return benchkit.Latencies{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return benchkit.Summarize(ds), nil
}
