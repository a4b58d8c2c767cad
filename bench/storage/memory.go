package main

import (
	"os"
	"runtime"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// memSample is the memory of the process holding a backend's data.
type memSample struct {
	benchkit.Memory       // of the process
	heap            int64 // live Go heap after a GC, bytes; only in-process
}

// sampleMemory reads pid's memory, and the Go heap when pid is this
// process.
func sampleMemory(pid int) (memSample, error) {
	var m memSample
	if pid == os.Getpid() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.heap = int64(ms.HeapAlloc)
	}
	var err error
	m.Memory, err = benchkit.ReadMemory(pid)
	return m, err
}
