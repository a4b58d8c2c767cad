package benchkit

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Columns head the figure columns of a Table: target A's, target B's and
// their ratio A/B.
type Columns struct {
	A, B, Ratio string
}

// Table prints figures of two targets side by side, with their ratio, in
// right-aligned columns. M is the type of a target's measurements.
type Table[M any] struct {
	tw   *tabwriter.Writer
	p    *Printer
	a, b *M
}

// NewTable starts a table of the measurements a and b under cols on w; a
// nil target's figures print as "-".
func NewTable[M any](w io.Writer, cols Columns, a, b *M) *Table[M] {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	t := &Table[M]{tw: tw, p: NewPrinter(tw), a: a, b: b}
	t.p.Printf("measurement\tunit\t%s\t%s\t%s\t\n", cols.A, cols.B, cols.Ratio)
	return t
}

// Row adds the figure get reads from each target; get returns NaN when
// a target lacks the figure.
func (t *Table[M]) Row(name, unit string, get func(m *M) float64) {
	a, b := value(t.a, get), value(t.b, get)
	t.p.Printf("%s\t%s\t%s\t%s\t%s\t\n", name, unit, format(a), format(b), ratio(a, b))
}

// Flush writes the aligned table and returns the first error.
func (t *Table[M]) Flush() error {
	if err := t.p.Err(); err != nil {
		return err
	}
	return t.tw.Flush()
}

func value[M any](m *M, get func(m *M) float64) float64 {
	if m == nil {
		return math.NaN()
	}
	return get(m)
}

// format prints v with two decimals below 10, one below 100 and none from
// there up, and a missing figure as "-".
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

// Milliseconds is d in ms.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MiB is b bytes in MiB.
func MiB(b int64) float64 { return float64(b) / (1 << 20) }

// Count spells 10000 as 10k.
func Count(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
