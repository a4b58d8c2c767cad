package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

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

// sum is the total of per-process CPU times.
func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

// addMemoryRows adds the total and per-process rows of one memory sample.
func addMemoryRows(t *benchkit.Table[measurements], name string, sample func(m *measurements) memory) {
	mib := benchkit.MiB
	t.Row(name+", all processes", "MiB", func(m *measurements) float64 { return mib(sample(m).total) })
	t.Row("  API server process", "MiB", func(m *measurements) float64 {
		return byProc(m, sample(m).byProc, apiServerProc, mib)
	})
	t.Row("  etcd process", "MiB", func(m *measurements) float64 {
		return byProc(m, sample(m).byProc, etcdProc, mib)
	})
	t.Row("  API server Go heap, from its /metrics", "MiB", func(m *measurements) float64 {
		if sample(m).heap < 0 {
			return math.NaN()
		}
		return mib(sample(m).heap)
	})
}

// addRows adds the rows of the table, in order.
func addRows(t *benchkit.Table[measurements], o *Options) {
	ms, mib := benchkit.Milliseconds, benchkit.MiB
	pods := benchkit.Count(o.Pods)
	seconds := func(d time.Duration) float64 { return d.Seconds() }
	t.Row(fmt.Sprintf("start to ready, new data dir (median of %d)", o.Starts), "ms", func(m *measurements) float64 { return ms(m.ready) })
	t.Row("  of which etcd start to healthy (before)", "ms", func(m *measurements) float64 {
		if m.storageReady == 0 {
			return math.NaN()
		}
		return ms(m.storageReady)
	})
	t.Row(fmt.Sprintf("create %s pods, %d clients", pods, o.Clients), "ops/s", func(m *measurements) float64 { return m.createRate })
	t.Row("CPU during creates, all processes", "s", func(m *measurements) float64 { return sum(m.createCPU).Seconds() })
	t.Row("  API server process", "s", func(m *measurements) float64 { return byProc(m, m.createCPU, apiServerProc, seconds) })
	t.Row("  etcd process", "s", func(m *measurements) float64 { return byProc(m, m.createCPU, etcdProc, seconds) })
	t.Row("  harness clients (for reference)", "s", func(m *measurements) float64 { return m.clientCPU.Seconds() })
	t.Row("CPU per create, all processes", "ms", func(m *measurements) float64 { return ms(sum(m.createCPU)) / float64(o.Pods) })
	t.Row(fmt.Sprintf("get pods, %d clients", o.Clients), "ops/s", func(m *measurements) float64 { return m.getRate })
	t.Row(fmt.Sprintf("list %s pods, resourceVersion unset (median of %d)", pods, o.Lists), "ms",
		func(m *measurements) float64 { return ms(m.list.consistent) })
	t.Row(fmt.Sprintf("list %s pods, resourceVersion=0 (median of %d)", pods, o.Lists), "ms",
		func(m *measurements) float64 { return ms(m.list.any) })
	t.Row("  list response size (protobuf)", "MiB", func(m *measurements) float64 { return mib(int64(m.list.bytes)) })
	t.Row(fmt.Sprintf("watch: updates, 1 writer, %d watchers open", o.Watchers), "ops/s", func(m *measurements) float64 { return m.watch.updateRate })
	t.Row("watch: events delivered, all watchers", "events/s", func(m *measurements) float64 { return m.watch.eventRate })
	t.Row("watch: delivery p50 from update ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.P50) })
	t.Row("watch: delivery p99 from update ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.P99) })
	t.Row("watch: events missed", "events", func(m *measurements) float64 { return float64(m.watch.missed) })
	t.Row("watch: streams ended early, rewatched", "streams", func(m *measurements) float64 { return float64(m.watch.rewatches) })
	addMemoryRows(t, "RSS idle", func(m *measurements) memory { return m.idle })
	addMemoryRows(t, "RSS with "+pods+" pods", func(m *measurements) memory { return m.loaded })
	addMemoryRows(t, fmt.Sprintf("RSS with %s pods, %d watchers", pods, o.Watchers),
		func(m *measurements) memory { return m.watching })
	t.Row(fmt.Sprintf("patch pod status (merge patch, as a node agent), %d clients", o.Clients), "ops/s", func(m *measurements) float64 { return m.patchRate })
	t.Row("CPU per status patch, all processes", "ms", func(m *measurements) float64 { return ms(sum(m.patchCPU)) / float64(o.Pods) })
	t.Row("  API server process", "ms", func(m *measurements) float64 {
		return byProc(m, m.patchCPU, apiServerProc, seconds) * 1000 / float64(o.Pods)
	})
	t.Row("errors returned under load", "errors", func(m *measurements) float64 { return float64(m.errs.total()) })
}

// printTable prints one column per measured target and their ratio.
func printTable(w io.Writer, o *Options, tug, upstream *measurements) error {
	t := benchkit.NewTable(w, benchkit.Columns{A: "tug", B: "upstream", Ratio: "tug/upstream"}, tug, upstream)
	addRows(t, o)
	if err := t.Flush(); err != nil {
		return err
	}
	p := benchkit.NewPrinter(w)
	p.Printf("\nupstream is kube-apiserver + etcd; its start to ready counts from kube-apiserver's start, etcd\n" +
		"already healthy. tug/upstream above 1 is better for ops/s and events/s, below 1 for ms, s and MiB.\n" +
		"Lists are timed until the last byte arrives, not decoded. Watch delivery counts an event that\n" +
		"arrives before its writer sees the ack as 0; the writer does not wait for delivery, so p99 includes\n" +
		"the fan-out backlog. tug runs its controllers in-process (their informers count in its memory);\n" +
		"upstream's kube-controller-manager is not started.\n")
	for i, m := range []*measurements{tug, upstream} {
		name := []string{targetTug, targetUpstream}[i]
		if m != nil && m.errs.total() > 0 {
			p.Printf("\nErrors (%s):\n", name)
			m.errs.print(p, name)
		}
	}
	if tug != nil {
		printTargets(p, o, tug)
	}
	return p.Err()
}

// printTargets checks tug's figures against the targets of the API
// server issue.
func printTargets(p *benchkit.Printer, o *Options, tug *measurements) {
	check, ms, mib := p.Check, benchkit.Milliseconds, benchkit.MiB
	p.Printf("\nTargets:\n")
	check(tug.ready < 300*time.Millisecond, "ready < 300 ms on a new data dir: %.0f ms (median of %d)", ms(tug.ready), o.Starts)
	check(tug.createRate >= 5000, "pod creates >= 5000/s at %d clients: %.0f/s", o.Clients, tug.createRate)
	check(tug.loaded.total < 150e6, "memory with %s pods < 150 MB: %.0f MB (%.0f MiB)",
		benchkit.Count(o.Pods), float64(tug.loaded.total)/1e6, mib(tug.loaded.total))
}
