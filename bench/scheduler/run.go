package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// namespace holds the benchmark's pods.
const namespace = "bench"

// measurements are one scheduler's figures on one shape.
type measurements struct {
	// rate is pods bound per second from the first bind of the backlog to
	// its last.
	rate float64
	// all is from the scheduler's start to the backlog's last bind,
	// informer sync included.
	all time.Duration
	// steady is the latency from create acknowledged to bound, of pods
	// created one by one at SteadyRate once the backlog is done.
	steady benchkit.Latencies
	// serverCPU, schedulerCPU and agentCPU are the CPU time each process
	// spent per backlog pod, from the scheduler's start to the last bind.
	// schedulerCPU is -1 for a scheduler inside the server.
	serverCPU, schedulerCPU, agentCPU time.Duration
}

func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	root, err := os.MkdirTemp(o.Dir, "tug-bench-scheduler-")
	if err != nil {
		return err
	}
	if !o.Keep {
		defer func() { _ = os.RemoveAll(root) }()
	}
	bin := o.TugBinary
	if bin == "" {
		bin = filepath.Join(root, "tug")
		logf("building tug")
		if err := benchkit.BuildTug(ctx, bin); err != nil {
			return err
		}
	}
	schedulers := map[string]candidate{}
	switch {
	case o.Only == targetUpstream:
	case o.TugScheduler == tugInBench:
		schedulers[targetTug] = tugScheduler{}
	default:
		schedulers[targetTug] = tugServerScheduler{}
	}
	if o.Only != targetTug {
		k := filepath.Join(o.UpstreamDir, "bin", "kube-scheduler")
		if _, err := os.Stat(k); err == nil {
			schedulers[targetUpstream] = kubeScheduler{bin: k}
		} else if o.Only == targetUpstream {
			return fmt.Errorf("%s: %w (build it with shared/conformance/build.sh control-plane)", k, err)
		}
	}
	loadBefore := benchkit.LoadAverage()
	results := map[string]map[string]*measurements{}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, sh := range shapes(o.Quick) {
		if o.Shape != "" && sh.name != o.Shape {
			continue
		}
		results[sh.name] = map[string]*measurements{}
		for _, name := range []string{targetTug, targetUpstream} {
			s, ok := schedulers[name]
			if !ok {
				continue
			}
			logf("%s: %s on %d nodes, %d pods", sh.name, name, sh.nodes, sh.pods)
			m, err := measure(ctx, &o, bin, filepath.Join(root, sh.name+"-"+name), sh, s, logf)
			if err != nil {
				return fmt.Errorf("%s with %s: %w", sh.name, name, err)
			}
			results[sh.name][name] = m
		}
	}
	return report(os.Stdout, &o, args, root, schedulers, results, loadBefore)
}

// measure runs one scheduler on one shape on a fresh cluster.
func measure(ctx context.Context, o *Options, bin, dir string, sh shape, s candidate, logf func(string, ...any)) (m *measurements, err error) {
	c, err := benchkit.StartCluster(ctx, benchkit.ClusterOptions{
		Binary: bin, Dir: dir, Nodes: sh.nodes, UserAgent: "tug-bench/scheduler",
		ServerArgs: s.serverArgs(),
		// scheduler_perf's default node: 4 cpus, 32Gi, 110 pods.
		AgentArgs: []string{"--node-cpu", "4", "--node-memory", "32Gi", "--node-pods", "110"},
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, c.Stop()) }()
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	if err := s.hold(ctx, c); err != nil {
		return nil, fmt.Errorf("hold the scheduler: %w", err)
	}
	obsCtx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs, err := observe(obsCtx, c.Client, namespace)
	if err != nil {
		return nil, err
	}
	logf("creating %d pending pods", sh.pods)
	backlog := make([]string, sh.pods)
	if _, err := benchkit.RunOps(ctx, o.Clients, benchkit.Limit{Ops: int64(sh.pods)}, func(ctx context.Context, _ int, i int64) error {
		pod := sh.pod(int(i))
		backlog[i] = pod.Name
		_, err := c.Client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
		return err
	}); err != nil {
		return nil, fmt.Errorf("create pods: %w", err)
	}
	logf("starting %s", s.describe())
	start := time.Now()
	stopScheduler, schedulerPID, err := s.start(ctx, c, dir)
	if err != nil {
		return nil, err
	}
	pids := []int{c.Server.PID(), schedulerPID, c.Agent.PID()}
	cpuBefore, err := cpuTimes(pids)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stopScheduler()) }()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := obs.waitBound(waitCtx, backlog); err != nil {
		return nil, fmt.Errorf("backlog not scheduled: %w", err)
	}
	times := obs.times(backlog)
	first, last := slices.MinFunc(times, time.Time.Compare), slices.MaxFunc(times, time.Time.Compare)
	cpuAfter, err := cpuTimes(pids)
	if err != nil {
		return nil, err
	}
	perPod := func(i int) time.Duration { return (cpuAfter[i] - cpuBefore[i]) / time.Duration(len(backlog)) }
	m = &measurements{all: last.Sub(start), serverCPU: perPod(0), schedulerCPU: perPod(1), agentCPU: perPod(2)}
	if schedulerPID == c.Server.PID() {
		m.schedulerCPU = -1 // counted in the server's
	}
	if span := last.Sub(first); span > 0 {
		m.rate = float64(len(times)-1) / span.Seconds()
	}
	logf("backlog scheduled: %.0f pods/s; waiting for the nodes to report it running", m.rate)
	// The latency phase measures a cluster at rest, not one still busy
	// with the backlog's status writes (which a faster scheduler leaves
	// more of).
	if err := obs.waitRunning(waitCtx, backlog); err != nil {
		return nil, fmt.Errorf("backlog not running: %w", err)
	}
	logf("latency phase: %d pods at %d/s", o.SteadyPods, o.SteadyRate)
	m.steady, err = steadyLatency(waitCtx, o, c, obs, sh)
	return m, err
}

// cpuTimes is the CPU time each of pids has used.
func cpuTimes(pids []int) ([]time.Duration, error) {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		t, err := benchkit.CPUTime(pid)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// steadyLatency creates SteadyPods pods at SteadyRate and returns the
// latencies from each create's acknowledgement to its bind being seen.
func steadyLatency(ctx context.Context, o *Options, c *benchkit.Cluster, obs *observer, sh shape) (benchkit.Latencies, error) {
	names := make([]string, o.SteadyPods)
	acked := make([]time.Time, o.SteadyPods)
	errs := make([]error, o.SteadyPods)
	tick := time.NewTicker(time.Second / time.Duration(o.SteadyRate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range o.SteadyPods {
		<-tick.C
		pod := sh.pod(sh.pods + i)
		pod.Name = fmt.Sprintf("steady-%05d", i)
		names[i] = pod.Name
		wg.Go(func() {
			_, errs[i] = c.Client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
			acked[i] = time.Now()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return benchkit.Latencies{}, err
	}
	if err := obs.waitBound(ctx, names); err != nil {
		return benchkit.Latencies{}, fmt.Errorf("latency phase not scheduled: %w", err)
	}
	lat := make([]time.Duration, len(names))
	for i, t := range obs.times(names) {
		lat[i] = max(t.Sub(acked[i]), 0)
	}
	return benchkit.Summarize(lat), nil
}

// report prints the header and one table per shape.
func report(w io.Writer, o *Options, args []string, root string, schedulers map[string]candidate,
	results map[string]map[string]*measurements, loadBefore string) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/scheduler", args, root)
	for _, name := range []string{targetTug, targetUpstream} {
		if s, ok := schedulers[name]; ok {
			p.Printf("%s: %s\n", name, s.describe())
		}
	}
	p.Printf("each run: a fresh tug server (its scheduler disabled for a scheduler of its own process) and `tug agent --simulated`\n")
	p.Printf("nodes of 4 cpu, 32Gi, 110 pods in 3 zones; the pods are created pending (%d clients), then the scheduler starts;\n", o.Clients)
	p.Printf("once the backlog runs, latency phase: %d pods at %d/s\n", o.SteadyPods, o.SteadyRate)
	p.LoadAverages(loadBefore)
	if err := p.Err(); err != nil {
		return err
	}
	ms := benchkit.Milliseconds
	for _, sh := range shapes(o.Quick) {
		res, ok := results[sh.name]
		if !ok {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s: %d nodes, %d pods — %s\n", sh.name, sh.nodes, sh.pods, sh.description); err != nil {
			return err
		}
		t := benchkit.NewTable(w, benchkit.Columns{A: targetTug, B: targetUpstream, Ratio: "tug/kube"}, res[targetTug], res[targetUpstream])
		t.Row("pods scheduled per second (first to last bind)", "pods/s", func(m *measurements) float64 { return m.rate })
		t.Row("scheduler start (tug: lease released) to last bind", "s", func(m *measurements) float64 { return m.all.Seconds() })
		t.Row("API server and scheduler CPU per backlog pod", "ms", func(m *measurements) float64 { return ms(m.serverCPU + max(m.schedulerCPU, 0)) })
		t.Row("  of which the scheduler's own process", "ms", func(m *measurements) float64 {
			if m.schedulerCPU < 0 {
				return math.NaN()
			}
			return ms(m.schedulerCPU)
		})
		t.Row("simulated nodes' CPU per backlog pod", "ms", func(m *measurements) float64 { return ms(m.agentCPU) })
		t.Row("per-pod latency, create to bound, p50", "ms", func(m *measurements) float64 { return ms(m.steady.P50) })
		t.Row("per-pod latency, create to bound, p99", "ms", func(m *measurements) float64 { return ms(m.steady.P99) })
		if err := t.Flush(); err != nil {
			return err
		}
		tug, kube := res[targetTug], res[targetUpstream]
		if tug != nil && sh.name == "SchedulingBasic" && !o.Quick {
			p.Check(tug.rate >= 1000, "tug schedules >= 1,000 pods/s on %s at %d nodes (%.0f)", sh.name, sh.nodes, tug.rate)
		}
		if tug != nil && kube != nil {
			p.Check(tug.rate > kube.rate, "tug ahead of kube-scheduler on %s (%.2fx)", sh.name, tug.rate/kube.rate)
		}
		p.Printf("\n")
	}
	return p.Err()
}
