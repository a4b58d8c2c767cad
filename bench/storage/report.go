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

// rows lists the table in order.
func rows(o *Options) []row {
	var rs []row
	for _, c := range concurrencies {
		rs = append(rs, row{"create, " + writers(c), "ops/s", func(m *measurements) float64 { return m.create[c] }})
	}
	for _, c := range concurrencies {
		rs = append(rs, row{"update, " + writers(c), "ops/s", func(m *measurements) float64 { return m.update[c] }})
	}
	rs = append(rs, row{fmt.Sprintf("get, %d readers", getReaders), "ops/s", func(m *measurements) float64 { return m.get }})
	for i, n := range o.listSizes {
		rs = append(rs, row{fmt.Sprintf("list %s keys (median of %d)", count(n), o.listRuns[i]), "ms",
			func(m *measurements) float64 { return ms(m.list[n]) }})
	}
	rs = append(rs,
		row{"create latency p50, 1 writer", "ms", func(m *measurements) float64 { return ms(m.createLatency.p50) }},
		row{"create latency p99, 1 writer", "ms", func(m *measurements) float64 { return ms(m.createLatency.p99) }},
		row{"fdatasync of a 1 KiB append p50", "ms", func(m *measurements) float64 { return ms(m.fsync.p50) }},
		row{"fdatasync of a 1 KiB append p99", "ms", func(m *measurements) float64 { return ms(m.fsync.p99) }},
		row{"create p50 / fdatasync p50", "x", func(m *measurements) float64 {
			return float64(m.createLatency.p50) / float64(m.fsync.p50)
		}},
	)
	w := fmt.Sprintf("%d watchers, %d writes/s", o.Watchers, o.WatchRate)
	rs = append(rs,
		row{"watch p50 from write ack (" + w + ")", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.p50) }},
		row{"watch p99 from write ack", "ms", func(m *measurements) float64 { return ms(m.watch.fromAck.p99) }},
		row{"watch p50 from write issue", "ms", func(m *measurements) float64 { return ms(m.watch.fromIssue.p50) }},
		row{"watch p99 from write issue", "ms", func(m *measurements) float64 { return ms(m.watch.fromIssue.p99) }},
		row{"watch writes/s achieved", "ops/s", func(m *measurements) float64 { return m.watch.rate }},
		row{"watch events missed", "events", func(m *measurements) float64 { return float64(m.watch.missing) }},
	)
	n := count(o.listSizes[len(o.listSizes)-1])
	rs = append(rs,
		row{"load " + n + " keys, 64 writers", "ops/s", func(m *measurements) float64 { return m.loadRate }},
		row{"memory for " + n + " keys: RSS delta", "MiB", func(m *measurements) float64 {
			return mib(m.memAfter.rss - m.memBefore.rss)
		}},
		row{"memory for " + n + " keys: anon RSS delta", "MiB", func(m *measurements) float64 {
			return mib(m.memAfter.anon - m.memBefore.anon)
		}},
		row{"memory for " + n + " keys: Go heap delta", "MiB", func(m *measurements) float64 {
			if m.memBefore.heap == 0 {
				return math.NaN() // not an in-process Go heap
			}
			return mib(m.memAfter.heap - m.memBefore.heap)
		}},
	)
	if o.Store {
		rs = append(rs,
			row{"store: create " + n + " ConfigMaps, 64 writers", "ops/s", func(m *measurements) float64 { return m.storeCreate }},
			row{"store: list " + n + " ConfigMaps (median of 3)", "ms", func(m *measurements) float64 { return ms(m.storeList) }},
		)
	}
	return rs
}

// printer writes formatted text and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// printTable prints one column per measured target and their ratio.
func printTable(w io.Writer, o *Options, tug, etcd *measurements) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	tp := &printer{w: tw}
	tp.printf("measurement\tunit\ttug (bolt)\tetcd\ttug/etcd\t\n")
	for _, r := range rows(o) {
		a, b := value(r, tug), value(r, etcd)
		tp.printf("%s\t%s\t%s\t%s\t%s\t\n", r.name, r.unit, format(a), format(b), ratio(a, b))
	}
	if tp.err != nil {
		return tp.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	p.printf("\ntug/etcd above 1 is better for ops/s, below 1 for ms and MiB. Watch latency from ack\n" +
		"counts an event that arrives before its writer sees the ack as 0; from issue includes the write.\n")
	if tug != nil {
		printTargets(p, o, tug, etcd)
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

func writers(n int) string {
	if n == 1 {
		return "1 writer"
	}
	return fmt.Sprintf("%d writers", n)
}

// count spells 10000 as 10k.
func count(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// printTargets checks the figures against the targets of the storage issue.
func printTargets(p *printer, o *Options, tug, etcd *measurements) {
	check := func(ok bool, format string, a ...any) {
		mark := "FAIL"
		if ok {
			mark = "ok  "
		}
		p.printf("  %s "+format+"\n", append([]any{mark}, a...)...)
	}
	p.printf("\nTargets:\n")
	c64 := tug.create[64]
	check(c64 >= 20000, "create, 64 writers >= 20000/s: %.0f/s", c64)
	if etcd != nil {
		check(c64 >= 2*etcd.create[64], "create, 64 writers >= 2x etcd: %.2fx", c64/etcd.create[64])
	}
	lat := float64(tug.createLatency.p50) / float64(tug.fsync.p50)
	check(lat <= 1.5, "single-writer create p50 within 1.5x of one fdatasync: %.2fx (%.2f ms vs %.2f ms)",
		lat, ms(tug.createLatency.p50), ms(tug.fsync.p50))
	biggest := o.listSizes[len(o.listSizes)-1]
	check(tug.list[biggest] < 150*time.Millisecond, "list %s keys < 150 ms: %.1f ms", count(biggest), ms(tug.list[biggest]))
	check(tug.watch.fromAck.p99 < 5*time.Millisecond && tug.watch.missing == 0,
		"watch p99 < 5 ms at %d writes/s, %d watchers: %.2f ms from ack, %.2f ms from issue, %d missed",
		o.WatchRate, o.Watchers, ms(tug.watch.fromAck.p99), ms(tug.watch.fromIssue.p99), tug.watch.missing)
}
