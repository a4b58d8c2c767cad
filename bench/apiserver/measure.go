package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// memory is the resident memory of a target's processes, in the order of
// server.procs, and their sum; heap is the API server's own account of its
// Go heap (go_memstats_heap_alloc_bytes, garbage not yet collected
// included), -1 if it did not say.
type memory struct {
	total  int64
	byProc []int64
	heap   int64
}

// measurements are the figures of one target.
type measurements struct {
	procNames []string // the target's processes, the API server first

	readies, storageReadies []time.Duration // one per fresh start
	ready, storageReady     time.Duration   // their medians

	createRate float64
	createCPU  []time.Duration // per process, during the create phase
	clientCPU  time.Duration   // the harness's own, during the create phase
	getRate    float64

	list listResult

	watch watchResult

	patchRate float64
	patchCPU  []time.Duration // per process, during the status patch phase

	idle, loaded, watching memory
	errs                   *errorLog
}

// settle is how long the harness lets a server be before weighing it.
func settle(o *Options) time.Duration { return benchkit.Pick(o.Quick, time.Second, 3*time.Second) }

// measureTarget starts l o.Starts times on fresh data directories under
// dir, keeps the last instance and runs every phase against it.
func measureTarget(ctx context.Context, o *Options, l launcher, dir string, logf func(string, ...any)) (*measurements, error) {
	m := &measurements{errs: newErrorLog()}
	var s *server
	for i := range o.Starts {
		startDir := filepath.Join(dir, fmt.Sprintf("start-%d", i))
		var err error
		if s, err = l.start(ctx, startDir); err != nil {
			return nil, err
		}
		logf("start %d: ready in %v", i+1, s.ready.Round(time.Millisecond))
		m.readies = append(m.readies, s.ready)
		if s.storageReady > 0 {
			m.storageReadies = append(m.storageReadies, s.storageReady)
		}
		if i == o.Starts-1 {
			break
		}
		if err := s.stop(); err != nil {
			return nil, err
		}
		if !o.Keep {
			_ = os.RemoveAll(startDir)
		}
	}
	defer func() { _ = s.stop() }()
	m.ready, m.storageReady = benchkit.Percentile(m.readies, 50), benchkit.Percentile(m.storageReadies, 50)
	for _, p := range s.procs {
		m.procNames = append(m.procNames, p.Name)
	}
	if err := m.phases(ctx, o, s, logf); err != nil {
		return nil, err
	}
	return m, s.procs[0].Exited()
}

// phases runs the load phases in order against s.
func (m *measurements) phases(ctx context.Context, o *Options, s *server, logf func(string, ...any)) error {
	time.Sleep(settle(o))
	var err error
	clients, err := newClients(s.config, o.Clients)
	if err != nil {
		return err
	}
	if m.idle, err = weigh(ctx, s, clients[0]); err != nil {
		return err
	}
	for i := range podNamespaces {
		if err := ensureNamespace(ctx, clients[0], podNamespace(i)); err != nil {
			return err
		}
	}

	logf("creating %d pods from %d clients", o.Pods, o.Clients)
	cpuBefore, err := cpuTimes(s)
	if err != nil {
		return err
	}
	clientBefore, err := benchkit.CPUTime(os.Getpid())
	if err != nil {
		return err
	}
	res, err := createPods(ctx, clients, o.Pods, m.errs)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	m.createRate = res.Rate()
	cpuAfter, err := cpuTimes(s)
	if err != nil {
		return err
	}
	clientAfter, err := benchkit.CPUTime(os.Getpid())
	if err != nil {
		return err
	}
	m.clientCPU = clientAfter - clientBefore
	for i := range cpuAfter {
		m.createCPU = append(m.createCPU, cpuAfter[i]-cpuBefore[i])
	}
	logf("%.0f creates/s", m.createRate)
	time.Sleep(settle(o))
	if m.loaded, err = weigh(ctx, s, clients[0]); err != nil {
		return err
	}

	logf("getting pods from %d clients for %v", o.Clients, o.GetDuration)
	if res, err = getPods(ctx, clients, o.Pods, o.GetDuration, m.errs); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	m.getRate = res.Rate()
	logf("%.0f gets/s", m.getRate)

	logf("listing %d pods", o.Pods)
	if m.list, err = listMedians(ctx, clients[0], o.Pods, o.Lists, m.errs); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	logf("list: %v consistent, %v at resourceVersion 0", m.list.consistent.Round(time.Millisecond), m.list.any.Round(time.Millisecond))

	logf("watch fan-out: %d watchers, %d updates", o.Watchers, o.WatchUpdates)
	var weighErr error
	m.watch, err = fanOut(ctx, s.config, o.Watchers, o.WatchUpdates, m.errs, func() {
		m.watching, weighErr = weigh(ctx, s, clients[0])
	})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	logf("watch: %.0f events/s, p99 %v, %d missed", m.watch.eventRate, m.watch.fromAck.P99.Round(time.Microsecond), m.watch.missed)
	if weighErr != nil {
		return weighErr
	}

	logf("patching the status of %d pods from %d clients", o.Pods, o.Clients)
	if cpuBefore, err = cpuTimes(s); err != nil {
		return err
	}
	if res, err = patchPodStatuses(ctx, clients, o.Pods, m.errs); err != nil {
		return fmt.Errorf("status patch: %w", err)
	}
	m.patchRate = res.Rate()
	if cpuAfter, err = cpuTimes(s); err != nil {
		return err
	}
	for i := range cpuAfter {
		m.patchCPU = append(m.patchCPU, cpuAfter[i]-cpuBefore[i])
	}
	logf("%.0f status patches/s", m.patchRate)
	return nil
}

// weigh samples the resident memory of s's processes and the API server's
// heap.
func weigh(ctx context.Context, s *server, c kubernetes.Interface) (memory, error) {
	m := memory{heap: goHeap(ctx, c)}
	for _, p := range s.procs {
		mem, err := benchkit.ReadMemory(p.PID())
		if err != nil {
			return m, fmt.Errorf("%s memory: %w", p.Name, err)
		}
		m.byProc = append(m.byProc, mem.RSS)
		m.total += mem.RSS
	}
	return m, nil
}

// goHeap scrapes go_memstats_heap_alloc_bytes from the API server's
// /metrics; -1 if it is not there.
func goHeap(ctx context.Context, c kubernetes.Interface) int64 {
	data, err := c.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_alloc_bytes "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return int64(f)
			}
		}
	}
	return -1
}

// cpuTimes samples the CPU time of s's processes.
func cpuTimes(s *server) ([]time.Duration, error) {
	var ts []time.Duration
	for _, p := range s.procs {
		t, err := benchkit.CPUTime(p.PID())
		if err != nil {
			return nil, fmt.Errorf("%s CPU time: %w", p.Name, err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}
