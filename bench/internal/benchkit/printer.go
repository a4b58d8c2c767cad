package benchkit

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Printer writes formatted text and keeps the first error, so that a
// report can be written line by line and checked once.
type Printer struct {
	w   io.Writer
	err error
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer) *Printer { return &Printer{w: w} }

// Printf writes unless an earlier write failed.
func (p *Printer) Printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// Err is the first write error.
func (p *Printer) Err() error { return p.err }

// Environment starts a header that says what was measured where, so that
// tables can be compared: the command, `go run` of pkg with args, then the
// time, the machine, the Go version and dir, which holds the data.
func (p *Printer) Environment(pkg string, args []string, dir string) {
	p.Printf("$ %s\n", strings.TrimSpace("go run "+pkg+" "+strings.Join(args, " ")))
	p.Printf("%s, %d CPUs, %s, %s; data under %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.Version(), kernel(), dir)
}

// LoadAverages ends a header with the load averages before the run and
// now: other work on the machine skews every figure.
func (p *Printer) LoadAverages(before string) {
	p.Printf("load average (1m 5m 15m) before: %s, after: %s\n\n", before, LoadAverage())
}

// Check prints one line of a list of targets, marked ok or FAIL.
func (p *Printer) Check(ok bool, format string, a ...any) {
	mark := "FAIL"
	if ok {
		mark = "ok  "
	}
	p.Printf("  %s "+format+"\n", append([]any{mark}, a...)...)
}
