package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// printReport prints the header and one column per size.
func printReport(w io.Writer, o *Options, args []string, loadBefore string, ms []*measurements) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/proxy", args, "a fresh network namespace per size")
	p.Printf("nft.Syncer writing table ip tug; %d ready endpoints per Service, every %dth Service with a NodePort;\n",
		o.Endpoints, nodePortEvery)
	p.Printf("incremental figures over %d changes each, on different Services; a sync returns once the kernel committed it\n",
		o.Repeats)
	p.LoadAverages(loadBefore)
	if err := p.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	t := benchkit.NewPrinter(tw)
	t.Printf("measurement\tunit\t")
	for _, m := range ms {
		t.Printf("%s Services\t", benchkit.Count(m.services))
	}
	t.Printf("\n")
	row := func(name, unit string, get func(m *measurements) float64) {
		t.Printf("%s\t%s\t", name, unit)
		for _, m := range ms {
			t.Printf("%s\t", format(get(m)))
		}
		t.Printf("\n")
	}
	ms50 := func(ds []time.Duration) float64 {
		return benchkit.Milliseconds(benchkit.Percentile(slices.Clone(ds), 50))
	}
	maxOf := func(ds []time.Duration) float64 { return benchkit.Milliseconds(slices.Max(ds)) }
	row("full sync (empty table to all rules)", "ms", func(m *measurements) float64 { return benchkit.Milliseconds(m.full) })
	row("  netlink messages in its transaction", "", func(m *measurements) float64 { return float64(m.fullStats.Messages) })
	row("chains in the kernel's table", "", func(m *measurements) float64 { return float64(m.kernelChains) })
	row("rules in the kernel's table", "", func(m *measurements) float64 { return float64(m.kernelRules) })
	row("map and set elements", "", func(m *measurements) float64 { return float64(m.fullStats.Elements) })
	row("sync with nothing changed, p50", "ms", func(m *measurements) float64 { return ms50(m.noChange) })
	row("one endpoint replaced (new pod IP): sync p50", "ms", func(m *measurements) float64 { return ms50(m.replaced) })
	row("  max", "ms", func(m *measurements) float64 { return maxOf(m.replaced) })
	row("  netlink messages", "", func(m *measurements) float64 { return float64(m.replacedMsgs) })
	row("one endpoint removed: sync p50", "ms", func(m *measurements) float64 { return ms50(m.endpoint) })
	row("  max", "ms", func(m *measurements) float64 { return maxOf(m.endpoint) })
	row("  netlink messages", "", func(m *measurements) float64 { return float64(m.endpointMsgs) })
	row("one Service added: sync p50", "ms", func(m *measurements) float64 { return ms50(m.add) })
	row("  max", "ms", func(m *measurements) float64 { return maxOf(m.add) })
	row("  netlink messages", "", func(m *measurements) float64 { return float64(m.addMsgs) })
	row("one Service removed: sync p50", "ms", func(m *measurements) float64 { return ms50(m.remove) })
	row("  max", "ms", func(m *measurements) float64 { return maxOf(m.remove) })
	row("  netlink messages", "", func(m *measurements) float64 { return float64(m.removeMsgs) })
	row("Go heap of the Services given to Sync", "MiB", func(m *measurements) float64 { return benchkit.MiB(m.stateHeap) })
	row("Go heap the Syncer keeps after the full sync", "MiB", func(m *measurements) float64 { return benchkit.MiB(m.syncerHeap) })
	if err := t.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

// format prints v like the other benchmark tables: more decimals for
// smaller figures.
func format(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
