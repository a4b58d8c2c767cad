package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// measurements are the figures of one run.
type measurements struct {
	register   time.Duration    // agent start to every node Ready with a pod CIDR
	create     benchkit.Result  // the pod creates
	allRunning time.Duration    // first create to every pod Running
	lag        time.Duration    // last create to every pod Running
	agent      benchkit.Figures // at the end
	agentNodes int64            // agent RSS once the nodes were Ready, before any pod
	heap       map[string]int64 // the agent's last logged Go heap figures
	server     benchkit.Figures
}

// run parses args, runs the benchmark and prints its table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	runDir, err := os.MkdirTemp(o.Dir, "bench-simagent-")
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
	if err != nil {
		return err
	}
	return printReport(os.Stdout, &o, args, bin, loadBefore, m)
}

// measure starts the server and the agent, runs the phases and stops both.
func measure(ctx context.Context, o *Options, bin, runDir string, logf func(string, ...any)) (*measurements, error) {
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return nil, err
	}
	port := ports[0]
	dataDir := filepath.Join(runDir, "data")
	server, err := benchkit.StartProcess("tug server", bin, []string{"server", "--data-dir", dataDir, "--https-port", strconv.Itoa(port),
		"--bind-address", "127.0.0.1", "--disable-agent", "--disable-scheduler", "--cluster-cidr", benchkit.SimulatedClusterCIDR},
		filepath.Join(runDir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = server.Stop() }()
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := benchkit.WaitBody(ctx, server, url+"/readyz", "ok", time.Minute); err != nil {
		return nil, err
	}
	admin, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dataDir, "kubeconfig.yaml"))
	if err != nil {
		return nil, err
	}
	admin.QPS, admin.Burst = -1, 0
	admin.ContentType = "application/vnd.kubernetes.protobuf"
	client, err := kubernetes.NewForConfig(rest.CopyConfig(admin))
	if err != nil {
		return nil, err
	}
	watchCtx, stopWatches := context.WithCancel(ctx)
	defer stopWatches()
	nodes, pods := readyNodes(client), runningPods(client, namespace)
	go nodes.informer.RunWithContext(watchCtx)
	go pods.informer.RunWithContext(watchCtx)
	if !cache.WaitForCacheSync(watchCtx.Done(), nodes.informer.HasSynced, pods.informer.HasSynced) {
		return nil, errors.New("watches did not sync")
	}

	token, err := os.ReadFile(filepath.Join(dataDir, "server", "token"))
	if err != nil {
		return nil, err
	}
	logf("starting the agent with %d nodes", o.Nodes)
	start := time.Now()
	agent, err := benchkit.StartProcess("tug agent", bin, []string{"agent", "--simulated", "--nodes", strconv.Itoa(o.Nodes),
		"--server", url, "--token", strings.TrimSpace(string(token))}, filepath.Join(runDir, "agent.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = agent.Stop() }()
	failed := func() error { return errors.Join(server.Exited(), agent.Exited()) }

	m := &measurements{}
	done, err := nodes.waitFor(ctx, o.Nodes, o.Timeout, failed, func(n int) { logf("%d of %d nodes Ready", n, o.Nodes) })
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	m.register = done.Sub(start)
	m.agentNodes = benchkit.ReadFigures(agent).RSS
	logf("%d nodes Ready in %v; creating %d pods", o.Nodes, m.register.Round(time.Millisecond), o.Pods)

	createStart := time.Now()
	createDone := make(chan error, 1)
	go func() {
		var err error
		m.create, err = createPods(ctx, admin, o)
		createDone <- err
	}()
	done, err = pods.waitFor(ctx, o.Pods, o.Timeout, failed, func(n int) { logf("%d of %d pods Running", n, o.Pods) })
	if createErr := <-createDone; createErr != nil {
		return nil, createErr
	}
	if err != nil {
		return nil, fmt.Errorf("pods: %w", err)
	}
	m.allRunning = done.Sub(createStart)
	m.lag = done.Sub(createStart.Add(m.create.Elapsed))
	logf("%d pods Running %v after the first create", o.Pods, m.allRunning.Round(time.Millisecond))

	m.agent, m.server = benchkit.ReadFigures(agent), benchkit.ReadFigures(server)
	stopWatches()
	_ = agent.Stop()
	m.heap = lastHeap(agent.LogPath())
	return m, nil
}

// lastHeap reads the Go heap figures of the agent's last summary line.
func lastHeap(logPath string) map[string]int64 {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.Contains(line, "heapLiveBytes=") {
			continue
		}
		for field := range strings.FieldsSeq(line) {
			key, value, ok := strings.Cut(field, "=")
			if n, err := strconv.ParseInt(value, 10, 64); ok && err == nil && strings.HasPrefix(key, "heap") {
				out[key] = n
			}
		}
	}
	return out
}
