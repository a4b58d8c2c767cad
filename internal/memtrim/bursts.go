package memtrim

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// BurstPolicy says when a burst of allocation is over: allocation is
// sampled every Interval, an interval in which at least Trickle bytes were
// allocated is busy, and Quiet intervals that are not, after Burst bytes or
// more were allocated, end the burst.
type BurstPolicy struct {
	Interval       time.Duration
	Trickle, Burst uint64
	Quiet          int
}

// DefaultBurstPolicy fits the API server: an idle server allocates well
// under a MiB a second, creating a thousand pods hundreds; a burst is over
// after a quiet second.
var DefaultBurstPolicy = BurstPolicy{Interval: 500 * time.Millisecond, Trickle: 4 << 20, Burst: 64 << 20, Quiet: 2}

// ReleaseAfterBursts gives the heap's free pages back to the kernel each
// time a burst of allocation ends, and pages out the executable's
// read-only pages (ReleaseExecutablePages), until ctx ends.
//
// The Go runtime lets the heap grow to twice what survived the last
// collection before it collects again, and returns the pages it frees only
// gradually; after a burst of writes (a deployment scaled up, a list of
// everything) the process so holds on to about twice its live heap, for
// minutes. A forced collection once the burst is over costs one collection
// and brings the resident size down to what is live. A burst also runs
// code that is then idle again (a list of everything, a thousand pods'
// validation); of the executable, what stays in use faults back in.
func ReleaseAfterBursts(ctx context.Context, p BurstPolicy) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	t := newBurstTracker(p)
	last := read()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := read()
		if t.observe(p, now-last) {
			debug.FreeOSMemory()
			_, _ = ReleaseExecutablePages() // a kernel before Linux 5.4 keeps the pages
		}
		last = now
	}
}

// burstTracker follows allocation interval by interval.
type burstTracker struct {
	inBurst uint64 // bytes allocated since the burst began
	quiet   int    // quiet intervals since the last busy one
}

// newBurstTracker starts in a burst: start-up is the first one, having
// touched code all over the executable and left garbage behind.
func newBurstTracker(p BurstPolicy) burstTracker { return burstTracker{inBurst: p.Burst} }

// observe takes one interval's allocation and reports whether a burst
// just ended.
func (t *burstTracker) observe(p BurstPolicy, allocated uint64) bool {
	if allocated >= p.Trickle {
		t.inBurst += allocated
		t.quiet = 0
		return false
	}
	if t.inBurst == 0 {
		return false
	}
	t.quiet++
	if t.quiet < p.Quiet {
		return false
	}
	ended := t.inBurst >= p.Burst
	t.inBurst, t.quiet = 0, 0
	return ended
}
