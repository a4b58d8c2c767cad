package replicaset

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestExpectations(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(t0)
	e := newExpectations(clk)
	const key = "ns/rs"
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"unknown key", func() {}, true},
		{"expect two creations", func() { e.expectCreations(key, 2) }, false},
		{"one seen", func() { e.creationObserved(key) }, false},
		{"both seen", func() { e.creationObserved(key) }, true},
		{"expect deletions", func() { e.expectDeletions(key, []string{"ns/a", "ns/b"}) }, false},
		{"same deletion twice", func() { e.deletionObserved(key, "ns/a"); e.deletionObserved(key, "ns/a") }, false},
		{"other deletion", func() { e.deletionObserved(key, "ns/b") }, true},
		{"expect again", func() { e.expectCreations(key, 1) }, false},
		{"expired", func() { clk.SetTime(t0.Add(expectationsTTL + time.Second)) }, true},
		{"forgotten", func() { e.expectCreations(key, 3); e.forget(key) }, true},
	}
	for _, s := range steps {
		s.do()
		if got := e.satisfied(key); got != s.want {
			t.Fatalf("after %s: satisfied = %v, want %v", s.name, got, s.want)
		}
	}
}
