package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// printReport prints the header and the table of m.
func printReport(w io.Writer, o *Options, args []string, bin, loadBefore string, m *measurements) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/simagent", args, o.Dir)
	p.Printf("tug server (%s, --disable-scheduler) and tug agent --simulated as child processes on loopback\n", bin)
	p.Printf("%d pods bound round robin to %d nodes, created by %d clients on their own connections, protobuf\n",
		o.Pods, o.Nodes, o.Clients)
	p.LoadAverages(loadBefore)
	if err := p.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	t := benchkit.NewPrinter(tw)
	row := func(name, unit string, v float64) { t.Printf("%s\t%s\t%s\t\n", name, unit, format(v)) }
	secs := func(d time.Duration) float64 { return d.Seconds() }
	mib := benchkit.MiB
	t.Printf("measurement\tunit\tvalue\t\n")
	row("nodes", "", float64(o.Nodes))
	row("pods", "", float64(o.Pods))
	row("agent start to all nodes Ready with a pod CIDR", "s", secs(m.register))
	row("pod creates", "ops/s", m.create.Rate())
	row("first create to all pods Running", "s", secs(m.allRunning))
	row("  last create to all pods Running", "s", secs(m.lag))
	row("pods started per second (end to end)", "pods/s", float64(o.Pods)/m.allRunning.Seconds())
	row("agent RSS, nodes only", "MiB", mib(m.agentNodes))
	row("agent RSS, peak", "MiB", mib(m.agent.Peak))
	row("agent RSS, at the end", "MiB", mib(m.agent.RSS))
	row("  of which anonymous (not the binary's pages)", "MiB", mib(m.agent.Anon))
	row("agent Go heap live (last GC), at the end", "MiB", heapMiB(m.heap, "heapLiveBytes"))
	row("agent Go heap objects, at the end", "MiB", heapMiB(m.heap, "heapObjectsBytes"))
	row("agent CPU, total", "s", secs(m.agent.CPU))
	row("server RSS, at the end", "MiB", mib(m.server.RSS))
	row("server CPU, total", "s", secs(m.server.CPU))
	if err := t.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

func heapMiB(heap map[string]int64, key string) float64 {
	v, ok := heap[key]
	if !ok {
		return -1
	}
	return benchkit.MiB(v)
}

// format prints v like the other benchmark tables: more decimals for
// smaller figures, "-" for a missing one.
func format(v float64) string {
	switch {
	case v < 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
