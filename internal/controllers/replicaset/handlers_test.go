package replicaset

import (
	"testing"
	"time"
)

func TestStatusBatch(t *testing.T) {
	c := &Controller{}
	c.podCounts.Store("ns/small", 3)
	c.podCounts.Store("ns/big", 30000)
	for key, want := range map[string]time.Duration{
		"ns/unknown": podStatusBatch,
		"ns/small":   podStatusBatch,
		"ns/big":     600 * time.Millisecond,
	} {
		if got := c.statusBatch(key); got != want {
			t.Errorf("statusBatch(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestWalkDelay(t *testing.T) {
	c := &Controller{}
	c.podCounts.Store("ns/small", 3)
	c.podCounts.Store("ns/big", 30000)
	for key, want := range map[string]time.Duration{"ns/unknown": 0, "ns/small": 60 * time.Microsecond, "ns/big": 600 * time.Millisecond} {
		if got := c.walkDelay(key); got != want {
			t.Errorf("walkDelay(%s) = %v, want %v", key, got, want)
		}
	}
}
