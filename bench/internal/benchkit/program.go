package benchkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main runs a benchmark program's run with args and a context that SIGINT
// or SIGTERM cancels, prints its error after the program's name, and
// returns the exit code.
func Main(program string, args []string, run func(ctx context.Context, args []string) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, program+":", err)
		return 1
	}
	return 0
}

// Flags are the options every benchmark program takes; each program's
// Options embeds them.
type Flags struct {
	// Quick shrinks every count for a smoke run. Default false.
	Quick bool
	// Only runs one target, by the name -only takes. Default "": every
	// target.
	Only string
	// Dir is the parent of the run's data directories; it should be a real
	// disk, not tmpfs. Default /var/tmp.
	Dir string
	// Verbose logs progress to stderr. Default true.
	Verbose bool
}

// FlagSet returns the flag set of program, which reports to stderr, with
// f bound to -quick, -only, -dir and -v; targets are the names -only
// takes.
func (f *Flags) FlagSet(program string, stderr io.Writer, targets ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.Quick, "quick", false, "smaller counts and durations, for a smoke run")
	fs.StringVar(&f.Only, "only", "", "run only "+oneOf(targets))
	fs.StringVar(&f.Dir, "dir", "/var/tmp", "parent of the data directories (use a real disk, not tmpfs)")
	fs.BoolVar(&f.Verbose, "v", true, "log progress to stderr")
	return fs
}

// Progress returns a printf that writes a timestamped line to w when
// Verbose is set, and nothing otherwise.
func (f *Flags) Progress(w io.Writer) func(format string, a ...any) {
	verbose := f.Verbose
	return func(format string, a ...any) {
		if verbose {
			_, _ = fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
		}
	}
}

// Parse parses args with fs; the programs take no positional arguments.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("unexpected arguments")
	}
	return nil
}

// Pick returns small for a quick run and full otherwise.
func Pick[T any](quick bool, small, full T) T {
	if quick {
		return small
	}
	return full
}

// oneOf spells names as `"a" or "b"`.
func oneOf(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
