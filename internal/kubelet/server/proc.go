package server

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// userHZ is the unit of /proc/stat's CPU times: Linux reports them in
// USER_HZ, 100 on every architecture tug runs on.
const userHZ = 100

// readNodeStats reads the node's CPU time, boot time and memory from
// procRoot (normally /proc).
func readNodeStats(procRoot string, now time.Time) (*NodeStats, error) {
	cpuNanos, boot, err := readProcStat(filepath.Join(procRoot, "stat"))
	if err != nil {
		return nil, err
	}
	mem, err := readMeminfo(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return nil, err
	}
	total, free, available := mem["MemTotal"], mem["MemFree"], mem["MemAvailable"]
	usage := total - min(free, total)
	workingSet := total - min(available, total)
	return &NodeStats{
		StartTime: metav1.NewTime(boot),
		CPU:       &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: &cpuNanos},
		Memory: &MemoryStats{
			Time: metav1.NewTime(now), AvailableBytes: &available, UsageBytes: &usage, WorkingSetBytes: &workingSet,
		},
	}, nil
}

// readProcStat returns the CPU time spent busy, summed over all CPUs, in
// nanoseconds, and the boot time.
func readProcStat(path string) (uint64, time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read cpu stats: %w", err)
	}
	var busy uint64
	var boot time.Time
	foundCPU := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "cpu":
			// user nice system idle iowait irq softirq steal (guest time
			// is already in user and nice).
			for i, f := range fields[1:] {
				if i == 3 || i == 4 || i >= 8 {
					continue // idle, iowait, guest, guest_nice
				}
				n, err := strconv.ParseUint(f, 10, 64)
				if err != nil {
					return 0, time.Time{}, fmt.Errorf("parse %s: cpu field %q: %w", path, f, err)
				}
				busy += n
			}
			foundCPU = true
		case "btime":
			sec, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, time.Time{}, fmt.Errorf("parse %s: btime %q: %w", path, fields[1], err)
			}
			boot = time.Unix(sec, 0)
		}
	}
	if !foundCPU {
		return 0, time.Time{}, fmt.Errorf("parse %s: no cpu line", path)
	}
	return busy * (uint64(time.Second) / userHZ), boot, nil
}

// readMeminfo returns /proc/meminfo's values in bytes, by name.
func readMeminfo(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read memory stats: %w", err)
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && fields[1] == "kB" {
			n *= 1024
		}
		out[name] = n
	}
	if out["MemTotal"] == 0 {
		return nil, fmt.Errorf("parse %s: no MemTotal", path)
	}
	return out, nil
}
