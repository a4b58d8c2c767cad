package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// row is one line of the table; get returns NaN when a figure is missing.
type row struct {
	name, unit string
	get        func(m *measurements) float64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Process roles in the breakdown rows: the API server is always first;
// only upstream has a second process.
const (
	apiServerProc = 0
	etcdProc      = 1
)

// byProc returns the figure of process i, NaN if the target has none.
func byProc[T any](m *measurements, s []T, i int, f func(T) float64) float64 {
	if i >= len(s) || i >= len(m.procNames) {
		return math.NaN()
	}
	return f(s[i])
}

// memoryRows are the total and per-process rows of one memory sample.
func memoryRows(name string, sample func(m *measurements) memory) []row {
	return []row{
		{name + ", all processes", "MiB", func(m *measurements) float64 { return mib(sample(m).total) }},
		{"  API server process", "MiB", func(m *measurements) float64 {
			return byProc(m, sample(m).byProc, apiServerProc, mib)
		}},
		{"  etcd process", "MiB", func(m *measurements) float64 {
			return byProc(m, sample(m).byProc, etcdProc, mib)
		}},
		{"  API server Go heap, from its /metrics", "MiB", func(m *measurements) float64 {
			if sample(m).heap < 0 {
				return math.NaN()
			}
			return mib(sample(m).heap)
		}},
	}
}

// rows lists the table in order.
func rows(o *Options) []row {
	pods := count(o.Pods)
	seconds := func(d time.Duration) float64 { return d.Seconds() }
	rs := []row{
		{fmt.Sprintf("start to ready, new data dir (median of %d)", o.Starts), "ms", func(m *measurements) float64 { return ms(m.ready) }},
		{"  of which etcd start to healthy (before)", "ms", func(m *measurements) float64 {
			if m.storageReady == 0 {
				return math.NaN()
			}
			return ms(m.storageReady)
		}},
		{fmt.Sprintf("create %s pods, %d clients", pods, o.Clients), "ops/s", func(m *measurements) float64 { return m.createRate }},
		{"CPU during creates, all processes", "s", func(m *measurements) float64 {
			var t time.Duration
			for _, c := range m.createCPU {
				t += c
			}
			return t.Seconds()
		}},
		{"  API server process", "s", func(m *measurements) float64 { return byProc(m, m.createCPU, apiServerProc, seconds) }},
		{"  etcd process", "s", func(m *measurements) float64 { return byProc(m, m.createCPU, etcdProc, seconds) }},
		{"  harness clients (for reference)", "s", func(m *measurements) float64 { return m.clientCPU.Seconds() }},
		{"CPU per create, all processes", "ms", func(m *measurements) float64 {
			var t time.Duration
			for _, c := range m.createCPU {
				t += c
			}
			return ms(t) / float64(o.Pods)
		}},
		{fmt.Sprintf("get pods, %d clients", o.Clients), "ops/s", func(m *measurements) float64 { return m.getRate }},
		{fmt.Sprintf("list %s pods, resourceVersion unset (median of %d)", pods, o.Lists), "ms",
			func(m *measurements) float64 { return ms(m.list.consistent) }},
		{fmt.Sprintf("list %s pods, resourceVersion=0 (median of %d)", pods, o.Lists), "ms",
			func(m *measurements) float64 { return ms(m.list.any) }},
		{"  list response size (protobuf)", "MiB", func(m *measurements) float64 { return mib(int64(m.list.bytes)) }},
		{fmt.Sprintf("watch: updates, 1 writer, %d watchers open", o.Watchers), "ops/s", func(m *measurements) float64 { return m.watch.updateRate }},
		{"watch: events delivered, all watchers", "events/s", func(m *measurements) float64 { return m.watch.eventRate }},
		{"watch: delivery p50 from update ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.p50) }},
		{"watch: delivery p99 from update ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.p99) }},
		{"watch: events missed", "events", func(m *measurements) float64 { return float64(m.watch.missed) }},
		{"watch: streams ended early, rewatched", "streams", func(m *measurements) float64 { return float64(m.watch.rewatches) }},
	}
	rs = append(rs, memoryRows("RSS idle", func(m *measurements) memory { return m.idle })...)
	rs = append(rs, memoryRows("RSS with "+pods+" pods", func(m *measurements) memory { return m.loaded })...)
	rs = append(rs, memoryRows(fmt.Sprintf("RSS with %s pods, %d watchers", pods, o.Watchers),
		func(m *measurements) memory { return m.watching })...)
	rs = append(rs, row{"errors returned under load", "errors", func(m *measurements) float64 { return float64(m.errs.total()) }})
	return rs
}

// printTable prints one column per measured target and their ratio.
func printTable(w io.Writer, o *Options, tug, upstream *measurements) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	tp := &printer{w: tw}
	tp.printf("measurement\tunit\ttug\tupstream\ttug/upstream\t\n")
	for _, r := range rows(o) {
		a, b := value(r, tug), value(r, upstream)
		tp.printf("%s\t%s\t%s\t%s\t%s\t\n", r.name, r.unit, format(a), format(b), ratio(a, b))
	}
	if tp.err != nil {
		return tp.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	p.printf("\nupstream is kube-apiserver + etcd; its start to ready counts from kube-apiserver's start, etcd\n" +
		"already healthy. tug/upstream above 1 is better for ops/s and events/s, below 1 for ms, s and MiB.\n" +
		"Lists are timed until the last byte arrives, not decoded. Watch delivery counts an event that\n" +
		"arrives before its writer sees the ack as 0; the writer does not wait for delivery, so p99 includes\n" +
		"the fan-out backlog. tug runs its controllers in-process (their informers count in its memory);\n" +
		"upstream's kube-controller-manager is not started.\n")
	for i, m := range []*measurements{tug, upstream} {
		name := []string{targetTug, targetUpstream}[i]
		if m != nil && m.errs.total() > 0 {
			p.printf("\nErrors (%s):\n", name)
			m.errs.print(p, name)
		}
	}
	if tug != nil {
		printTargets(p, o, tug)
	}
	return p.err
}

func value(r row, m *measurements) float64 {
	if m == nil {
		return math.NaN()
	}
	return r.get(m)
}

func format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// count spells 10000 as 10k.
func count(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// printTargets checks tug's figures against the targets of the API
// server issue.
func printTargets(p *printer, o *Options, tug *measurements) {
	check := func(ok bool, format string, a ...any) {
		mark := "FAIL"
		if ok {
			mark = "ok  "
		}
		p.printf("  %s "+format+"\n", append([]any{mark}, a...)...)
	}
	p.printf("\nTargets:\n")
	check(tug.ready < 300*time.Millisecond, "ready < 300 ms on a new data dir: %.0f ms (median of %d)", ms(tug.ready), o.Starts)
	check(tug.createRate >= 5000, "pod creates >= 5000/s at %d clients: %.0f/s", o.Clients, tug.createRate)
	check(tug.loaded.total < 150e6, "memory with %s pods < 150 MB: %.0f MB (%.0f MiB)",
		count(o.Pods), float64(tug.loaded.total)/1e6, mib(tug.loaded.total))
}
