package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// printReport prints the header and the table of m.
func printReport(w io.Writer, o *Options, args []string, loadBefore string, m *measurements) error {
	p := benchkit.NewPrinter(w)
	p.Environment("./bench/dns", args, "memory (no files)")
	p.Printf("tug's DNS server in this process on 127.0.0.1, over a static store (the informers' indexers) of %d Services\n",
		o.Services)
	p.Printf("in %d namespaces, every %dth headless, each with one EndpointSlice of %d ready endpoints;\n",
		o.Namespaces, o.HeadlessEvery, o.Endpoints)
	p.Printf("%d UDP clients in this process, one query at a time each, EDNS 1232; %v per kind of query\n",
		o.Clients, o.Duration)
	p.Printf("store: %d objects loaded in %v, %.1f MiB of Go heap\n", m.objects, m.load.Round(time.Millisecond),
		float64(m.heapBytes)/(1<<20))
	p.LoadAverages(loadBefore)
	if err := p.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	t := benchkit.NewPrinter(tw)
	t.Printf("query\tanswers\tqueries/s\tp50 µs\tp99 µs\t\n")
	for _, f := range m.kinds {
		t.Printf("%s\t%d\t%.0f\t%s\t%s\t\n", f.label, f.answers, f.result.Rate(), micros(f.lat.P50), micros(f.lat.P99))
	}
	if err := t.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

func micros(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }
