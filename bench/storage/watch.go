package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/storage"
)

// watchResult is the delivery latency of the watch run, measured from two
// points: when the write was issued and when it was acknowledged to the
// writer. An event can arrive before the writer sees its acknowledgement;
// such latencies count as zero.
type watchResult struct {
	fromIssue, fromAck benchkit.Latencies
	writes             int     // writes made
	rate               float64 // writes per second achieved
	missing            int     // events some watcher never received
}

// watchWriters is how many goroutines carry the paced writes, so that the
// rate holds even when one write takes longer than the interval.
const watchWriters = 32

// watchLatency starts watchers prefix watches, then creates keys under
// prefix at rate per second for d, and measures when each watcher saw each
// write.
func watchLatency(ctx context.Context, be storage.Backend, prefix string, watchers, rate int,
	d time.Duration) (watchResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := int(float64(rate) * d.Seconds())
	startRev, err := be.Revision(ctx)
	if err != nil {
		return watchResult{}, err
	}

	// recv[w][i] is when watcher w saw write i, in ns since t0.
	t0 := time.Now()
	recv := make([][]int64, watchers)
	var watchWG sync.WaitGroup
	watchErr := make(chan error, watchers)
	for w := range watchers {
		recv[w] = make([]int64, total)
		ch := be.Watch(ctx, prefix, true, startRev)
		watchWG.Go(func() {
			if err := receive(ch, prefix, recv[w], t0); err != nil && ctx.Err() == nil {
				watchErr <- fmt.Errorf("watcher %d: %w", w, err)
			}
		})
	}

	issued, acked, elapsed, err := pacedWrites(ctx, be, prefix, total, rate, t0)
	if err != nil {
		cancel()
		watchWG.Wait()
		return watchResult{}, err
	}
	// Give the watchers time to drain, then stop them.
	waitDone := make(chan struct{})
	go func() { watchWG.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(10 * time.Second):
	}
	cancel()
	<-waitDone
	select {
	case err := <-watchErr:
		return watchResult{}, err
	default:
	}

	res := watchResult{writes: total, rate: float64(total) / elapsed.Seconds()}
	var fromIssue, fromAck []time.Duration
	for w := range watchers {
		for i, at := range recv[w] {
			if at == 0 {
				res.missing++
				continue
			}
			fromIssue = append(fromIssue, time.Duration(max(0, at-issued[i])))
			fromAck = append(fromAck, time.Duration(max(0, at-acked[i])))
		}
	}
	res.fromIssue, res.fromAck = benchkit.Summarize(fromIssue), benchkit.Summarize(fromAck)
	return res, nil
}

// receive records, in at, when each write's event arrives, and returns
// once every slot is filled or the watch ends.
func receive(ch <-chan storage.WatchResponse, prefix string, at []int64, t0 time.Time) error {
	left := len(at)
	for resp := range ch {
		now := int64(time.Since(t0))
		if resp.Err != nil {
			return resp.Err
		}
		for _, ev := range resp.Events {
			i, err := strconv.Atoi(strings.TrimPrefix(ev.KV.Key, prefix))
			if err != nil || i < 0 || i >= len(at) {
				return fmt.Errorf("unexpected key %q", ev.KV.Key)
			}
			if at[i] == 0 {
				at[i] = max(now, 1)
				left--
			}
		}
		if left == 0 {
			return nil
		}
	}
	return nil
}

// pacedWrites creates total keys, write i issued at t0 + i/rate, and
// returns when each was issued and acknowledged, in ns since t0.
func pacedWrites(ctx context.Context, be storage.Backend, prefix string, total, rate int,
	t0 time.Time) (issued, acked []int64, elapsed time.Duration, err error) {
	issued, acked = make([]int64, total), make([]int64, total)
	interval := time.Second / time.Duration(rate)
	work := make(chan int, total)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range watchWriters {
		wg.Go(func() {
			for i := range work {
				issued[i] = int64(time.Since(t0))
				if _, werr := be.Create(ctx, seqKey(prefix, int64(i)), benchValue, 0); werr != nil {
					errOnce.Do(func() { err = werr; cancel() })
					return
				}
				acked[i] = int64(time.Since(t0))
			}
		})
	}
	start := time.Now()
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return issued, acked, time.Since(start), err
}
