package benchkit

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Memory is the resident memory of a process, in bytes.
type Memory struct {
	RSS  int64 // VmRSS
	Peak int64 // VmHWM, the highest RSS so far
	Anon int64 // RssAnon
}

// ReadMemory reads the resident memory of process pid from
// /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	status, err := readStatus(pid)
	if err != nil {
		return Memory{}, err
	}
	return Memory{RSS: status["VmRSS"], Peak: status["VmHWM"], Anon: status["RssAnon"]}, nil
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

// LoadAverage returns the first three fields of /proc/loadavg, "unknown"
// if it cannot be read.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

// kernel names the running kernel and its release.
func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "linux"
	}
	return "linux " + strings.TrimSpace(string(data))
}

// Figures are a child process's memory and CPU time at one moment; a
// reading that failed (the process is gone) is left zero.
type Figures struct {
	Memory
	CPU time.Duration
}

// ReadFigures reads p's memory and CPU time.
func ReadFigures(p *Process) Figures {
	var f Figures
	if mem, err := ReadMemory(p.PID()); err == nil {
		f.Memory = mem
	}
	f.CPU, _ = CPUTime(p.PID())
	return f
}
