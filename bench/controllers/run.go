package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// phase is one timed step and the CPU each child spent during it.
type phase struct {
	elapsed             time.Duration
	serverCPU, agentCPU time.Duration
}

// measurements are the figures of one run.
type measurements struct {
	nodesReady       time.Duration    // server ready to every node Ready
	scaleUp          phase            // replicas 0 to n, until all available
	rollout          phase            // template change until the rollout is complete
	fill             benchkit.Result  // creating the namespace's objects
	deletion         phase            // namespace delete until a GET answers 404
	server, agent    benchkit.Figures // at the end
	serverAtReplicas int64            // server RSS once the replicas were available
}

// run parses args, runs the benchmark and prints its table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	runDir, err := os.MkdirTemp(o.Dir, "bench-controllers-")
	if err != nil {
		return err
	}
	if !o.Keep {
		defer func() { _ = os.RemoveAll(runDir) }()
	} else {
		logf("keeping %s", runDir)
	}
	bin := o.TugBinary
	if bin == "" {
		bin = filepath.Join(runDir, "tug")
		logf("building tug")
		if err := benchkit.BuildTug(ctx, bin); err != nil {
			return err
		}
	}
	loadBefore := benchkit.LoadAverage()
	m, err := measure(ctx, &o, bin, runDir, logf)
	if m == nil {
		return err
	}
	// A failed or interrupted run still prints what it measured ("-" for
	// the phases it did not finish), then its error.
	return errors.Join(printReport(os.Stdout, &o, args, bin, loadBefore, m), err)
}

// measure starts the cluster, runs the three phases and stops it. After
// a failed phase it returns the figures so far with the error.
func measure(ctx context.Context, o *Options, bin, runDir string, logf func(string, ...any)) (m *measurements, err error) {
	start := time.Now()
	logf("starting the server and an agent with %d nodes", o.Nodes)
	c, err := benchkit.StartCluster(ctx, benchkit.ClusterOptions{
		Binary: bin, Dir: runDir, Nodes: o.Nodes, UserAgent: "tug-bench/controllers",
		AgentArgs: []string{"--node-cpu", "32", "--node-memory", "256Gi", "--node-pods", strconv.Itoa(nodePods)},
	})
	if err != nil {
		return nil, err
	}
	m = &measurements{nodesReady: time.Since(start)}
	defer func() {
		// Read even after a failed phase: the partial figures are reported.
		m.server, m.agent = benchkit.ReadFigures(c.Server), benchkit.ReadFigures(c.Agent)
		err = errors.Join(err, c.Stop())
	}()
	logf("%d nodes Ready in %v; creating the deployment at 0 replicas", o.Nodes, m.nodesReady.Round(time.Millisecond))
	if err := createDeployment(ctx, c, o.Timeout, logf); err != nil {
		return m, fmt.Errorf("create the deployment: %w", err)
	}
	n := int32(o.Replicas)

	logf("scaling to %d replicas", n)
	if m.scaleUp, err = timed(c, func() error { return scaleUp(ctx, c, n, o.Timeout, logf) }); err != nil {
		return m, fmt.Errorf("scale up: %w", err)
	}
	m.serverAtReplicas = benchkit.ReadFigures(c.Server).RSS
	logf("%d replicas available in %v; rolling out a new template", n, m.scaleUp.elapsed.Round(time.Millisecond))
	if m.rollout, err = timed(c, func() error { return rollOut(ctx, c, n, o.Timeout, logf) }); err != nil {
		return m, fmt.Errorf("rolling update: %w", err)
	}
	logf("rollout complete in %v; creating %d objects in namespace %s", m.rollout.elapsed.Round(time.Millisecond), o.Objects, doomed)

	if m.fill, err = fillNamespace(ctx, c.Client, o.Objects, o.Clients); err != nil {
		return m, fmt.Errorf("fill namespace %s: %w", doomed, err)
	}
	logf("created in %v; deleting namespace %s", m.fill.Elapsed.Round(time.Millisecond), doomed)
	if m.deletion, err = timed(c, func() error { return deleteNamespace(ctx, c, o.Timeout, logf) }); err != nil {
		return m, fmt.Errorf("namespace deletion: %w", err)
	}
	logf("namespace gone in %v", m.deletion.elapsed.Round(time.Millisecond))
	return m, nil
}

// timed runs step and returns how long it took and the CPU the server and
// the agent used meanwhile.
func timed(c *benchkit.Cluster, step func() error) (phase, error) {
	server, agent := benchkit.ReadFigures(c.Server).CPU, benchkit.ReadFigures(c.Agent).CPU
	start := time.Now()
	if err := step(); err != nil {
		return phase{}, err // a failed phase is reported as not measured
	}
	return phase{
		elapsed:   time.Since(start),
		serverCPU: benchkit.ReadFigures(c.Server).CPU - server,
		agentCPU:  benchkit.ReadFigures(c.Agent).CPU - agent,
	}, nil
}
