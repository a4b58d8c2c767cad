package memtrim

import (
	"os"
	"runtime/debug"
)

// ServerGCPercent is the collection target of the API server's heap: a
// collection starts once the heap has grown by 200% of what survived the
// last one, not by Go's default 100%.
//
// Most of the server's heap is long-lived (the watch cache's objects), and
// a collection's cost is the live heap it marks, so under a stream of
// writes the number of collections, not their size, sets what collecting
// costs. Letting the heap grow twice as far between them halves that:
// about a fifth of the server's CPU per write on the scheduler and
// controller benchmarks. The price is a higher peak while writes stream
// in, and a larger resident size after it: ReleaseAfterBursts gives back
// the pages that are wholly free, but the objects that outlive a burst
// stay spread over the pages the burst used (after 10k pod creates, the
// heap's pages in use were 1.6–1.75 times what is live at 200 %, 1.45
// times at 100 %).
const ServerGCPercent = 200

// SetServerGCPercent makes ServerGCPercent the process's collection
// target, unless the GOGC environment variable chose one (Go reads it at
// start), and returns what puts the previous target back.
func SetServerGCPercent() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(ServerGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
