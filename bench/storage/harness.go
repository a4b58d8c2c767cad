package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/storage"
)

// valueSize is the size of every value written: 1 KiB.
const valueSize = 1024

// benchValue is the incompressible value every write stores; backends do
// not retain it.
var benchValue = func() []byte {
	v := make([]byte, valueSize)
	r := rand.NewChaCha8([32]byte{'t', 'u', 'g'})
	_, _ = r.Read(v)
	return v
}()

// seqKey is the key of write i under prefix; keys sort in write order.
func seqKey(prefix string, i int64) string { return fmt.Sprintf("%s%09d", prefix, i) }

// createLoad creates new keys under prefix from conc writers.
func createLoad(ctx context.Context, be storage.Backend, prefix string, conc int, lim benchkit.Limit) (benchkit.Result, error) {
	return benchkit.RunOps(ctx, conc, lim, func(ctx context.Context, _ int, i int64) error {
		_, err := be.Create(ctx, seqKey(prefix, i), benchValue, 0)
		return err
	})
}

// load creates n keys under prefix with 64 writers.
func load(ctx context.Context, be storage.Backend, prefix string, n int) (benchkit.Result, error) {
	return createLoad(ctx, be, prefix, 64, benchkit.Limit{Ops: int64(n)})
}

// createUpdateKeys creates one key per writer under prefix for updateLoad
// and returns their revisions.
func createUpdateKeys(ctx context.Context, be storage.Backend, prefix string, conc int) ([]int64, error) {
	revs := make([]int64, conc)
	for w := range conc {
		rev, err := be.Create(ctx, seqKey(prefix, int64(w)), benchValue, 0)
		if err != nil {
			return nil, err
		}
		revs[w] = rev
	}
	return revs, nil
}

// updateLoad has one writer per key made by createUpdateKeys update it,
// conditionally on the revision it last wrote.
func updateLoad(ctx context.Context, be storage.Backend, prefix string, revs []int64, lim benchkit.Limit) (benchkit.Result, error) {
	return benchkit.RunOps(ctx, len(revs), lim, func(ctx context.Context, w int, _ int64) error {
		rev, err := be.Update(ctx, seqKey(prefix, int64(w)), benchValue, revs[w], 0)
		revs[w] = rev
		return err
	})
}

// getLoad reads the n keys loaded under prefix, round robin, from conc
// readers.
func getLoad(ctx context.Context, be storage.Backend, prefix string, n int, conc int, lim benchkit.Limit) (benchkit.Result, error) {
	return benchkit.RunOps(ctx, conc, lim, func(ctx context.Context, _ int, i int64) error {
		key := seqKey(prefix, i*7919%int64(n))
		kv, _, err := be.Get(ctx, key)
		if err == nil && kv == nil {
			err = fmt.Errorf("get %s: missing", key)
		}
		return err
	})
}

// listOnce ranges over every key under prefix at the current revision and
// returns how long it took; it fails unless it saw want keys.
func listOnce(ctx context.Context, be storage.Backend, prefix string, want int) (time.Duration, error) {
	start := time.Now()
	n, bytes := 0, 0
	_, err := be.Range(ctx, prefix, "", 0, func(kv storage.KeyValue) bool {
		n++
		bytes += len(kv.Value)
		return true
	})
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if n != want || bytes != want*valueSize {
		return 0, fmt.Errorf("list %s: %d keys, %d bytes; want %d keys", prefix, n, bytes, want)
	}
	return elapsed, nil
}

// listMedian lists prefix runs times and returns the median duration.
func listMedian(ctx context.Context, be storage.Backend, prefix string, want, runs int) (time.Duration, error) {
	var ds []time.Duration
	for range runs {
		d, err := listOnce(ctx, be, prefix, want)
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return benchkit.Percentile(ds, 50), nil
}
