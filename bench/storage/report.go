package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// addRows adds the rows of the table, in order.
func addRows(t *benchkit.Table[measurements], o *Options) {
	ms, mib := benchkit.Milliseconds, benchkit.MiB
	for _, c := range concurrencies {
		t.Row("create, "+writers(c), "ops/s", func(m *measurements) float64 { return m.create[c] })
	}
	for _, c := range concurrencies {
		t.Row("update, "+writers(c), "ops/s", func(m *measurements) float64 { return m.update[c] })
	}
	t.Row(fmt.Sprintf("get, %d readers", getReaders), "ops/s", func(m *measurements) float64 { return m.get })
	for i, n := range o.listSizes {
		t.Row(fmt.Sprintf("list %s keys (median of %d)", benchkit.Count(n), o.listRuns[i]), "ms",
			func(m *measurements) float64 { return ms(m.list[n]) })
	}
	t.Row("create latency p50, 1 writer", "ms", func(m *measurements) float64 { return ms(m.createLatency.P50) })
	t.Row("create latency p99, 1 writer", "ms", func(m *measurements) float64 { return ms(m.createLatency.P99) })
	t.Row("fdatasync of a 1 KiB append p50", "ms", func(m *measurements) float64 { return ms(m.fsync.P50) })
	t.Row("fdatasync of a 1 KiB append p99", "ms", func(m *measurements) float64 { return ms(m.fsync.P99) })
	t.Row("create p50 / fdatasync p50", "x", func(m *measurements) float64 {
		return float64(m.createLatency.P50) / float64(m.fsync.P50)
	})
	w := fmt.Sprintf("%d watchers, %d writes/s", o.Watchers, o.WatchRate)
	t.Row("watch p50 from write ack ("+w+")", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.P50) })
	t.Row("watch p99 from write ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.P99) })
	t.Row("watch p50 from write issue", "ms", func(m *measurements) float64 { return ms(m.watch.fromIssue.P50) })
	t.Row("watch p99 from write issue", "ms", func(m *measurements) float64 { return ms(m.watch.fromIssue.P99) })
	t.Row("watch writes/s achieved", "ops/s", func(m *measurements) float64 { return m.watch.rate })
	t.Row("watch events missed", "events", func(m *measurements) float64 { return float64(m.watch.missing) })
	n := benchkit.Count(o.listSizes[len(o.listSizes)-1])
	t.Row("load "+n+" keys, 64 writers", "ops/s", func(m *measurements) float64 { return m.loadRate })
	t.Row("memory for "+n+" keys: RSS delta", "MiB", func(m *measurements) float64 {
		return mib(m.memAfter.RSS - m.memBefore.RSS)
	})
	t.Row("memory for "+n+" keys: anon RSS delta", "MiB", func(m *measurements) float64 {
		return mib(m.memAfter.Anon - m.memBefore.Anon)
	})
	t.Row("memory for "+n+" keys: Go heap delta", "MiB", func(m *measurements) float64 {
		if m.memBefore.heap == 0 {
			return math.NaN() // not an in-process Go heap
		}
		return mib(m.memAfter.heap - m.memBefore.heap)
	})
	if o.Store {
		t.Row("store: create "+n+" ConfigMaps, 64 writers", "ops/s", func(m *measurements) float64 { return m.storeCreate })
		t.Row("store: list "+n+" ConfigMaps (median of 3)", "ms", func(m *measurements) float64 { return ms(m.storeList) })
	}
}

// printTable prints one column per measured target and their ratio.
func printTable(w io.Writer, o *Options, tug, etcd *measurements) error {
	t := benchkit.NewTable(w, benchkit.Columns{A: "tug (bolt)", B: "etcd", Ratio: "tug/etcd"}, tug, etcd)
	addRows(t, o)
	if err := t.Flush(); err != nil {
		return err
	}
	p := benchkit.NewPrinter(w)
	p.Printf("\ntug/etcd above 1 is better for ops/s, below 1 for ms and MiB. Watch latency from ack\n" +
		"counts an event that arrives before its writer sees the ack as 0; from issue includes the write.\n")
	if tug != nil {
		printTargets(p, o, tug, etcd)
	}
	return p.Err()
}

func writers(n int) string {
	if n == 1 {
		return "1 writer"
	}
	return fmt.Sprintf("%d writers", n)
}

// printTargets checks the figures against the targets of the storage issue.
func printTargets(p *benchkit.Printer, o *Options, tug, etcd *measurements) {
	check, ms := p.Check, benchkit.Milliseconds
	p.Printf("\nTargets:\n")
	c64 := tug.create[64]
	check(c64 >= 20000, "create, 64 writers >= 20000/s: %.0f/s", c64)
	if etcd != nil {
		check(c64 >= 2*etcd.create[64], "create, 64 writers >= 2x etcd: %.2fx", c64/etcd.create[64])
	}
	lat := float64(tug.createLatency.P50) / float64(tug.fsync.P50)
	check(lat <= 1.5, "single-writer create p50 within 1.5x of one fdatasync: %.2fx (%.2f ms vs %.2f ms)",
		lat, ms(tug.createLatency.P50), ms(tug.fsync.P50))
	biggest := o.listSizes[len(o.listSizes)-1]
	check(tug.list[biggest] < 150*time.Millisecond, "list %s keys < 150 ms: %.1f ms", benchkit.Count(biggest), ms(tug.list[biggest]))
	check(tug.watch.fromAck.P99 < 5*time.Millisecond && tug.watch.missing == 0,
		"watch p99 < 5 ms at %d writes/s, %d watchers: %.2f ms from ack, %.2f ms from issue, %d missed",
		o.WatchRate, o.Watchers, ms(tug.watch.fromAck.P99), ms(tug.watch.fromIssue.P99), tug.watch.missing)
}
