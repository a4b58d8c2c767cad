package memtrim

import (
	"os"
	"runtime/debug"
	"testing"
)

// gcPercent reads the current collection target.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

func TestSetServerGCPercent(t *testing.T) {
	if v, set := os.LookupEnv("GOGC"); set {
		t.Setenv("GOGC", v) // restored after the test
	}
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	restore := SetServerGCPercent()
	if got := gcPercent(); got != ServerGCPercent {
		t.Fatalf("target %d after SetServerGCPercent, want %d", got, ServerGCPercent)
	}
	restore()
	if got := gcPercent(); got != 150 {
		t.Fatalf("target %d after restore, want the previous 150", got)
	}
}

func TestSetServerGCPercentLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	restore := SetServerGCPercent()
	if got := gcPercent(); got != 150 {
		t.Fatalf("target %d with GOGC=150 set, want it kept", got)
	}
	restore()
	if got := gcPercent(); got != 150 {
		t.Fatalf("target %d after restore, want 150", got)
	}
}
