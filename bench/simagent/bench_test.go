package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLastHeap(t *testing.T) {
	log := `I1126 00:58:53.162998 1 simulator.go:122] "Starting simulated nodes" nodes=100
I1126 00:59:53.162998 1 simulator.go:150] "Simulated nodes" nodes=100 heapLiveBytes=100 heapObjectsBytes=200
I1126 00:58:59.838278 1 simulator.go:133] "Simulated nodes stopped" nodes=100 podsCached=2000 heapLiveBytes=5175680 heapObjectsBytes=7038888
`
	path := filepath.Join(t.TempDir(), "agent.log")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"heapLiveBytes": 5175680, "heapObjectsBytes": 7038888}
	if diff := cmp.Diff(want, lastHeap(path)); diff != "" {
		t.Errorf("lastHeap (-want +got):\n%s", diff)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Nodes != 100 || o.Pods != 2000 || o.Clients != 32 {
		t.Errorf("quick options = %+v, want 100 nodes, 2000 pods, 32 clients", o)
	}
	for _, args := range [][]string{{"-nodes", "1", "-pods", "111"}, {"-nodes", "20000"}, {"-only", "upstream"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
	if got := newPod(1234, 1000).Spec.NodeName; got != "sim-0234" {
		t.Errorf("pod 1234 of 1000 nodes is bound to %s, want sim-0234", got)
	}
}
