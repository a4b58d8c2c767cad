package memtrim

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestBurstTracker(t *testing.T) {
	p := BurstPolicy{Interval: time.Second, Trickle: 10, Burst: 100, Quiet: 2}
	tests := []struct {
		name    string
		seconds []uint64 // allocated per interval
		ends    []int    // the intervals at which a burst ends
	}{
		{"idle", []uint64{0, 5, 9, 0, 0, 0}, nil},
		{"a burst, then quiet", []uint64{50, 60, 0, 0, 0, 0}, []int{3}},
		{"quiet interrupted", []uint64{50, 60, 0, 30, 0, 0}, []int{5}},
		{"a burst too small", []uint64{20, 20, 0, 0}, nil},
		{"two bursts", []uint64{100, 0, 0, 100, 0, 0}, []int{2, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr burstTracker // not newBurstTracker: no start-up burst here
			var ends []int
			for i, a := range tt.seconds {
				if tr.observe(p, a) {
					ends = append(ends, i)
				}
			}
			if !slices.Equal(ends, tt.ends) {
				t.Fatalf("bursts ended at %v, want %v", ends, tt.ends)
			}
		})
	}
}

func TestStartUpIsTheFirstBurst(t *testing.T) {
	p := BurstPolicy{Interval: time.Second, Trickle: 10, Burst: 100, Quiet: 2}
	tr := newBurstTracker(p)
	var ends []int
	for i, a := range []uint64{5, 0, 0, 0, 50, 60, 0, 0} {
		if tr.observe(p, a) {
			ends = append(ends, i)
		}
	}
	if !slices.Equal(ends, []int{1, 7}) {
		t.Fatalf("bursts ended at %v, want the start-up's at 1, then the next at 7", ends)
	}
}

func TestReleaseAfterBurstsStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		ReleaseAfterBursts(ctx, DefaultBurstPolicy)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ReleaseAfterBursts did not return when its context ended")
	}
}
