package logs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A log as containerd writes it: one second apart, a line split in two
// partial lines, and stderr between.
const sample = `2026-01-02T03:04:01.000000001Z stdout F one
2026-01-02T03:04:02.5Z stderr F two
2026-01-02T03:04:03Z stdout P thr
2026-01-02T03:04:03.1Z stderr P fo
2026-01-02T03:04:03.2Z stdout F ee
2026-01-02T03:04:04Z stderr F ur
2026-01-02T03:04:05Z stdout F 
2026-01-02T03:04:06Z stdout F six with spaces  
`

func ptr[T any](v T) *T { return &v }

func TestReadLogs(t *testing.T) {
	at := func(sec int) time.Time { return time.Date(2026, 1, 2, 3, 4, sec, 0, time.UTC) }
	tests := []struct {
		name       string
		file       string
		opts       Options
		noStderr   bool
		wantStdout string
		wantStderr string
	}{
		{
			name:       "all lines, partial lines joined per stream",
			file:       sample,
			wantStdout: "one\nthree\n\nsix with spaces  \n",
			wantStderr: "two\nfour\n",
		},
		{
			name:       "stderr left out",
			file:       sample,
			noStderr:   true,
			wantStdout: "one\nthree\n\nsix with spaces  \n",
		},
		{
			name: "timestamps of a joined line are its first part's",
			file: sample,
			opts: Options{Timestamps: true},
			wantStdout: "2026-01-02T03:04:01.000000001Z one\n2026-01-02T03:04:03Z three\n" +
				"2026-01-02T03:04:05Z \n2026-01-02T03:04:06Z six with spaces  \n",
			wantStderr: "2026-01-02T03:04:02.5Z two\n2026-01-02T03:04:03.1Z four\n",
		},
		{
			name:       "tail counts lines of both streams",
			file:       sample,
			opts:       Options{TailLines: ptr[int64](3)},
			wantStdout: "\nsix with spaces  \n",
			wantStderr: "four\n",
		},
		{
			name: "tail zero",
			file: sample,
			opts: Options{TailLines: ptr[int64](0)},
		},
		{
			name:       "tail beyond the file",
			file:       sample,
			opts:       Options{TailLines: ptr[int64](100)},
			wantStdout: "one\nthree\n\nsix with spaces  \n",
			wantStderr: "two\nfour\n",
		},
		{
			name:       "since",
			file:       sample,
			opts:       Options{SinceTime: at(3)},
			wantStdout: "three\n\nsix with spaces  \n",
			wantStderr: "four\n",
		},
		{
			name:       "tail of what since keeps",
			file:       sample,
			opts:       Options{SinceTime: at(2), TailLines: ptr[int64](4)},
			wantStdout: "three\n\nsix with spaces  \n",
			wantStderr: "four\n",
		},
		{
			name:       "limit cuts a line",
			file:       sample,
			opts:       Options{LimitBytes: 10},
			wantStdout: "one\nth",
			wantStderr: "two\n",
		},
		{
			name:       "limit counts timestamps",
			file:       sample,
			opts:       Options{LimitBytes: 25, Timestamps: true},
			wantStdout: "2026-01-02T03:04:01.00000",
		},
		{
			name: "malformed lines skipped",
			file: "garbage\nnot-a-time stdout F x\n2026-01-02T03:04:01Z stdin F x\n2026-01-02T03:04:01Z\n" +
				"2026-01-02T03:04:01Z stdout F ok\n",
			wantStdout: "ok\n",
		},
		{
			name:       "line without a tag is whole",
			file:       "2026-01-02T03:04:01Z stdout F\n2026-01-02T03:04:02Z stdout F x\n",
			wantStdout: "\nx\n",
		},
		{
			name:       "unfinished CRI line ignored, unfinished log line written",
			file:       "2026-01-02T03:04:01Z stdout P abc\n2026-01-02T03:04:02Z stdout F de",
			wantStdout: "abc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			var errW io.Writer = &stderr
			if tt.noStderr {
				errW = nil
			}
			err := ReadLogs(context.Background(), path, tt.opts, &stdout, errW)
			if err != nil {
				t.Fatalf("ReadLogs: %v", err)
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadLogsMissingFile(t *testing.T) {
	err := ReadLogs(context.Background(), filepath.Join(t.TempDir(), "none.log"), Options{}, &bytes.Buffer{}, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}

// syncBuffer is written by ReadLogs and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until out holds want, or fails the test after a deadline.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output = %q, want %q", out.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReadLogsFollow follows a file a goroutine writes to, in pieces that
// end mid-line, and stops when the container is reported exited.
func TestReadLogsFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	initial := "2026-01-02T03:04:01Z stdout F old1\n2026-01-02T03:04:02Z stdout F old2\n"
	if err := os.WriteFile(path, []byte(initial), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var running atomic.Bool
	running.Store(true)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- ReadLogs(context.Background(), path, Options{
			Follow: true, TailLines: ptr[int64](1), Running: running.Load, PollInterval: time.Millisecond,
		}, out, out)
	}()
	waitFor(t, out, "old2\n")
	writes := []struct{ data, want string }{
		{"2026-01-02T03:04:03Z stdout F new1\n", "old2\nnew1\n"},
		{"2026-01-02T03:04:04Z stderr P par", "old2\nnew1\n"},
		{"t1\n2026-01-02T03:04:05Z stderr F -end\n", "old2\nnew1\npart1-end\n"},
	}
	for _, w := range writes {
		if _, err := f.WriteString(w.data); err != nil {
			t.Fatal(err)
		}
		waitFor(t, out, w.want)
	}
	// The runtime writes its last output, then reports the exit.
	if _, err := f.WriteString("2026-01-02T03:04:06Z stdout F last\n"); err != nil {
		t.Fatal(err)
	}
	running.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadLogs: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLogs did not return after the container exited")
	}
	if got, want := out.String(), "old2\nnew1\npart1-end\nlast\n"; got != want {
		t.Fatalf("output = %q, want %q", got, want)
	}
}

// TestReadLogsFollowCanceled stops following when ctx ends.
func TestReadLogsFollowCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte("2026-01-02T03:04:01Z stdout F a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- ReadLogs(ctx, path, Options{Follow: true, PollInterval: time.Millisecond}, out, out)
	}()
	waitFor(t, out, "a\n")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadLogs: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLogs did not return after ctx ended")
	}
}

func TestFromPodLogOptions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	since := metav1.NewTime(now.Add(-time.Hour))
	tests := []struct {
		name string
		in   *corev1.PodLogOptions
		want Options
	}{
		{name: "nil", in: nil, want: Options{}},
		{
			name: "since seconds wins over since time",
			in: &corev1.PodLogOptions{Follow: true, Timestamps: true, SinceSeconds: ptr[int64](10), SinceTime: &since,
				TailLines: ptr[int64](5), LimitBytes: ptr[int64](7)},
			want: Options{Follow: true, Timestamps: true, SinceTime: now.Add(-10 * time.Second), TailLines: ptr[int64](5), LimitBytes: 7},
		},
		{name: "since time", in: &corev1.PodLogOptions{SinceTime: &since}, want: Options{SinceTime: since.Time}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromPodLogOptions(tt.in, now)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b func() bool) bool { return a == nil && b == nil })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	for i := range 5 {
		r.push(&line{text: []byte{byte('a' + i)}})
	}
	var got []string
	for _, l := range r.lines() {
		got = append(got, string(l.text))
	}
	if diff := cmp.Diff("c d e", strings.Join(got, " ")); diff != "" {
		t.Error(diff)
	}
}

// FuzzReadLogs reads arbitrary files: never a panic, and without
// timestamps never more text out than the file holds (each line's prefix
// and newline make up for the newline written).
func FuzzReadLogs(f *testing.F) {
	f.Add([]byte(sample), int64(-1))
	f.Add([]byte("2026-01-02T03:04:01Z stdout P a\n2026-01-02T03:04:01Z stdout P b"), int64(1))
	f.Add([]byte("x y z\n\n \n"), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, tail int64) {
		path := filepath.Join(t.TempDir(), "0.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := Options{}
		if tail >= 0 {
			opts.TailLines = &tail
		}
		var out bytes.Buffer
		if err := ReadLogs(context.Background(), path, opts, &out, &out); err != nil {
			t.Fatal(err)
		}
		if out.Len() > len(data) {
			t.Errorf("%d bytes out of a %d-byte file", out.Len(), len(data))
		}
	})
}
