// Package logs reads the container log files a CRI runtime writes, with the
// filters of `kubectl logs`: follow, tail, since, timestamps and a byte limit.
package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DefaultPollInterval is how often a followed file is checked for growth.
const DefaultPollInterval = 100 * time.Millisecond

// Options say which part of a log to read, with corev1.PodLogOptions'
// semantics. The zero value reads the whole file once.
type Options struct {
	// Follow keeps reading as the file grows, until ctx ends or Running
	// reports that the container has exited. Default false.
	Follow bool
	// Running reports whether the container still runs. With Follow,
	// reading stops once it returns false and the rest of the file has been
	// read. nil means the container runs until ctx ends.
	Running func() bool
	// TailLines, if not nil, keeps only the last TailLines lines (of those
	// SinceTime keeps) of what the file holds when reading starts; lines
	// written later are all followed. Default nil: every line.
	TailLines *int64
	// SinceTime, if not zero, drops lines logged before it. Default zero.
	SinceTime time.Time
	// Timestamps prefixes each line with its RFC3339Nano time and a space.
	// Default false.
	Timestamps bool
	// LimitBytes, if positive, stops reading after that many bytes have
	// been written (the last line may be cut). Default 0: no limit.
	LimitBytes int64
	// PollInterval is how often a followed file is checked for growth and
	// Running is asked. Default DefaultPollInterval.
	PollInterval time.Duration
}

// FromPodLogOptions converts the API's options; now resolves SinceSeconds.
// Previous and Container choose the file, so they are the caller's.
func FromPodLogOptions(in *corev1.PodLogOptions, now time.Time) Options {
	var opts Options
	if in == nil {
		return opts
	}
	opts.Follow = in.Follow
	opts.Timestamps = in.Timestamps
	if in.TailLines != nil {
		tail := *in.TailLines
		opts.TailLines = &tail
	}
	if in.LimitBytes != nil {
		opts.LimitBytes = *in.LimitBytes
	}
	switch {
	case in.SinceSeconds != nil:
		opts.SinceTime = now.Add(-time.Duration(*in.SinceSeconds) * time.Second)
	case in.SinceTime != nil:
		opts.SinceTime = in.SinceTime.Time
	}
	return opts
}

// errLimit ends reading once LimitBytes have been written.
var errLimit = errors.New("log byte limit reached")

// ReadLogs writes the lines of the CRI log file at path to stdout and
// stderr, as opts select. Either writer may be nil to leave that stream
// out; both may be the same writer, lines are written whole. It returns
// nil when the selected part has been written, when ctx ends while
// following, or when LimitBytes is reached; an error when the file cannot
// be read or a writer fails.
func ReadLogs(ctx context.Context, path string, opts Options, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	defer func() { _ = f.Close() }()
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	r := &reader{opts: opts, out: [2]io.Writer{stdout, stderr}}
	if opts.LimitBytes > 0 {
		r.remaining = opts.LimitBytes
	}
	if opts.TailLines != nil {
		r.tail = newRing(*opts.TailLines)
	}
	err = r.run(ctx, bufio.NewReaderSize(f, 64*1024))
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

// reader turns CRI lines into whole log lines and writes those selected.
type reader struct {
	opts      Options
	out       [2]io.Writer
	remaining int64 // bytes left under LimitBytes; 0 when unlimited
	tail      *ring // lines held until the first end of file; nil without TailLines
	partial   [2]*line
	pending   []byte // a CRI line read up to the end of the file, not yet ended by '\n'
}

// line is one log line, joined from its partial CRI lines.
type line struct {
	time   time.Time
	stream int
	text   []byte
}

func (r *reader) run(ctx context.Context, br *bufio.Reader) error {
	exiting := false
	for {
		data, err := br.ReadBytes('\n')
		if len(data) > 0 {
			if err == nil {
				data = append(r.pending, data...)
				r.pending = nil
				if err := r.handle(data[:len(data)-1]); err != nil {
					return err
				}
				continue
			}
			// A line still being written: keep it for the next read.
			r.pending = append(r.pending, data...)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read log file: %w", err)
		}
		// At the end of what the file holds now.
		final := !r.opts.Follow || exiting
		if final {
			if err := r.flushPartials(); err != nil {
				return err
			}
		}
		if r.tail != nil {
			if err := r.flushTail(); err != nil {
				return err
			}
		}
		if final {
			return nil
		}
		if r.opts.Running != nil && !r.opts.Running() {
			// The runtime may still be copying the last output to the
			// file: read once more after a poll interval, then stop.
			exiting = true
		}
		timer := time.NewTimer(r.opts.PollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// handle parses one CRI line: "<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <text>".
// Malformed lines are skipped: a log file is the runtime's, and one bad
// line must not hide the rest.
func (r *reader) handle(raw []byte) error {
	ts, rest, ok := cut(raw)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return nil
	}
	streamName, rest, ok := cut(rest)
	if !ok {
		return nil
	}
	var stream int
	switch string(streamName) {
	case "stdout":
		stream = 0
	case "stderr":
		stream = 1
	default:
		return nil
	}
	tag, text, _ := cut(rest)
	partial := len(tag) > 0 && tag[0] == 'P'
	l := r.partial[stream]
	if l == nil {
		l = &line{time: t, stream: stream}
	}
	l.text = append(l.text, text...)
	if partial {
		r.partial[stream] = l
		return nil
	}
	r.partial[stream] = nil
	l.text = append(l.text, '\n')
	return r.emit(l)
}

// cut splits b at its first space; ok is false when there is none.
func cut(b []byte) (before, after []byte, ok bool) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// emit writes a whole line, or holds it while the tail is collected.
func (r *reader) emit(l *line) error {
	if r.out[l.stream] == nil || (!r.opts.SinceTime.IsZero() && l.time.Before(r.opts.SinceTime)) {
		return nil
	}
	if r.tail != nil {
		r.tail.push(l)
		return nil
	}
	return r.write(l)
}

func (r *reader) write(l *line) error {
	buf := l.text
	if r.opts.Timestamps {
		buf = append([]byte(l.time.Format(time.RFC3339Nano)+" "), l.text...)
	}
	limited := false
	if r.opts.LimitBytes > 0 && int64(len(buf)) >= r.remaining {
		buf, limited = buf[:r.remaining], true
	}
	if _, err := r.out[l.stream].Write(buf); err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	r.remaining -= int64(len(buf))
	if limited {
		return errLimit
	}
	return nil
}

// flushTail writes the collected tail; lines read after it are written as
// they come.
func (r *reader) flushTail() error {
	lines := r.tail.lines()
	r.tail = nil
	for _, l := range lines {
		if err := r.write(l); err != nil {
			return err
		}
	}
	return nil
}

// flushPartials ends lines whose end was never logged: they are written
// without a newline.
func (r *reader) flushPartials() error {
	for stream, l := range r.partial {
		if l == nil {
			continue
		}
		r.partial[stream] = nil
		if err := r.emit(l); err != nil {
			return err
		}
	}
	return nil
}
