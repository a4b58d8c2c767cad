package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// run parses args, measures each target in turn and prints the table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		if o.Verbose {
			fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
		}
	}
	loadBefore := loadAverage()
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
	p := &printer{w: w}
	cmd := strings.TrimSpace("go run ./bench/storage " + strings.Join(args, " "))
	p.printf("$ %s\n", cmd)
	p.printf("%s, %d CPUs, %s, %s; data under %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.Version(), kernel(), o.Dir)
	p.printf("1 KiB values; throughput points %v each; etcd: %s on 127.0.0.1 via clientv3\n",
		o.Duration, o.EtcdBinary)
	// Other work on the machine skews every figure; say how busy it was.
	p.printf("load average (1m 5m 15m) before: %s, after: %s\n\n", loadBefore, loadAverage())
	return p.err
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "linux"
	}
	return "linux " + strings.TrimSpace(string(data))
}
