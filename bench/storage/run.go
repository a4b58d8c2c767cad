package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// run parses args, measures each target in turn and prints the table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	loadBefore := benchkit.LoadAverage()
	results := map[string]*measurements{}
	for _, name := range []string{targetBolt, targetEtcd} {
		if o.Only != "" && o.Only != name {
			continue
		}
		m, err := measureTarget(ctx, &o, name, logf)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results[name] = m
	}
	if err := printHeader(os.Stdout, &o, args, loadBefore); err != nil {
		return err
	}
	return printTable(os.Stdout, &o, results[targetBolt], results[targetEtcd])
}

// measureTarget opens target name, measures it and closes it.
func measureTarget(ctx context.Context, o *Options, name string, logf func(string, ...any)) (m *measurements, err error) {
	var t *target
	switch name {
	case targetBolt:
		t, err = openBolt(o.Dir)
	case targetEtcd:
		t, err = startEtcd(ctx, o.Dir, o.EtcdBinary)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := t.close(); err == nil && cerr != nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	logf("%s: data in %s", name, t.dir)
	return measure(ctx, o, t, logf)
}

// printHeader says what was measured where, so the table can be compared.
func printHeader(w io.Writer, o *Options, args []string, loadBefore string) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/storage", args, o.Dir)
	p.Printf("1 KiB values; throughput points %v each; etcd: %s on 127.0.0.1 via clientv3\n",
		o.Duration, o.EtcdBinary)
	p.LoadAverages(loadBefore)
	return p.Err()
}
