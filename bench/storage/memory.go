package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// memSample is the memory of the process holding a backend's data.
type memSample struct {
	rss, anon int64 // VmRSS and RssAnon of the process, bytes
	heap      int64 // live Go heap after a GC, bytes; only in-process
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
	status, err := readStatus(pid)
	if err != nil {
		return m, err
	}
	m.rss, m.anon = status["VmRSS"], status["RssAnon"]
	return m, nil
}

// readStatus returns the kB fields of /proc/PID/status, in bytes.
func readStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	fields := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		rest, isKB := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok || !isKB {
			continue
		}
		if n, err := strconv.ParseInt(rest, 10, 64); err == nil {
			fields[name] = n << 10
		}
	}
	return fields, sc.Err()
}
