package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// run parses args, measures each target in turn and prints the table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	// Upstream warns about, for example, the pods' missing seccomp
	// profile; the warnings are not the point.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	runDir, err := os.MkdirTemp(o.Dir, "bench-apiserver-")
	if err != nil {
		return err
	}
	if !o.Keep {
		defer func() { _ = os.RemoveAll(runDir) }()
	}
	launchers, err := setUp(ctx, &o, runDir, logf)
	if err != nil {
		return err
	}
	loadBefore := benchkit.LoadAverage()
	results := map[string]*measurements{}
	for _, name := range []string{targetTug, targetUpstream} {
		l, ok := launchers[name]
		if !ok {
			continue
		}
		logf("%s: %s", name, l.describe())
		m, err := measureTarget(ctx, &o, l, filepath.Join(runDir, name), func(format string, a ...any) {
			logf(name+": "+format, a...)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results[name] = m
	}
	if err := printHeader(os.Stdout, &o, args, launchers, loadBefore); err != nil {
		return err
	}
	return printTable(os.Stdout, &o, results[targetTug], results[targetUpstream])
}

// setUp builds tug and finds the upstream binaries, returning a launcher
// per target to measure.
func setUp(ctx context.Context, o *Options, runDir string, logf func(string, ...any)) (map[string]launcher, error) {
	launchers := map[string]launcher{}
	if o.Only != targetUpstream {
		bin := o.TugBinary
		if bin == "" {
			bin = filepath.Join(runDir, "tug-binary")
			logf("building tug")
			if err := benchkit.BuildTug(ctx, bin); err != nil {
				return nil, err
			}
		}
		launchers[targetTug] = tugLauncher{bin: bin}
	}
	if o.Only != targetTug {
		apiserver := filepath.Join(o.UpstreamDir, "bin", "kube-apiserver")
		etcd := filepath.Join(o.UpstreamDir, "bin", "etcd")
		if _, err := os.Stat(etcd); err != nil {
			etcd = "/usr/bin/etcd"
		}
		_, apiErr := os.Stat(apiserver)
		_, etcdErr := os.Stat(etcd)
		switch err := errors.Join(apiErr, etcdErr); {
		case err != nil && o.Only == targetUpstream:
			return nil, fmt.Errorf("upstream binaries: %w (build them with shared/conformance/build.sh control-plane etcd)", err)
		case err != nil:
			logf("skipping upstream: %v", err)
		default:
			k, err := newPKI(filepath.Join(runDir, "pki"))
			if err != nil {
				return nil, fmt.Errorf("upstream certificates: %w", err)
			}
			launchers[targetUpstream] = &upstreamLauncher{apiserver: apiserver, etcd: etcd, pki: k}
		}
	}
	return launchers, nil
}

// printHeader says what was measured where, so the table can be compared.
func printHeader(w io.Writer, o *Options, args []string, launchers map[string]launcher, loadBefore string) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/apiserver", args, o.Dir)
	for _, name := range []string{targetTug, targetUpstream} {
		if l, ok := launchers[name]; ok {
			p.Printf("%s: %s\n", name, l.describe())
		}
	}
	pod := newPod(podNamespace(0), podName(0))
	js, _ := json.Marshal(pod)
	pb, _ := pod.Marshal()
	p.Printf("client-go %s clients, each on its own connection, no client rate limit, protobuf; pods of %d B JSON / %d B protobuf\n",
		clientGoVersion(), len(js), len(pb))
	p.Printf("%d pods in %d namespaces; watch: %d watchers (%d per connection) on one namespace, %d updates from 1 writer\n",
		o.Pods, podNamespaces, o.Watchers, watchersPerConn, o.WatchUpdates)
	p.LoadAverages(loadBefore)
	return p.Err()
}

// clientGoVersion is the client-go this harness was built with.
func clientGoVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "k8s.io/client-go" {
				return d.Version
			}
		}
	}
	return "(unknown)"
}
