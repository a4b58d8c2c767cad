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

// TestExpectationsReportTheLastObservation checks that exactly the
// observation meeting the last outstanding expectation says so.
func TestExpectationsReportTheLastObservation(t *testing.T) {
	e := newExpectations(clocktesting.NewFakePassiveClock(t0))
	const key = "ns/rs"
	if e.creationObserved(key) || e.deletionObserved(key, "ns/a") {
		t.Error("an observation for a key with no expectations met one")
	}
	e.expectCreations(key, 2)
	if e.creationObserved(key) {
		t.Error("the first of two creations met the expectations")
	}
	if !e.creationObserved(key) {
		t.Error("the second of two creations did not meet the expectations")
	}
	if e.creationObserved(key) {
		t.Error("a creation past the expected ones met them again")
	}
	e.expectDeletions(key, []string{"ns/a", "ns/b"})
	for range 2 {
		if e.deletionObserved(key, "ns/a") {
			t.Error("the first of two deletions (seen twice) met the expectations")
		}
	}
	if !e.deletionObserved(key, "ns/b") {
		t.Error("the last deletion did not meet the expectations")
	}
	e.expectCreations(key, 3)
	if !e.lowerCreations(key, 3) {
		t.Error("lowering by every outstanding creation did not meet the expectations")
	}
}
