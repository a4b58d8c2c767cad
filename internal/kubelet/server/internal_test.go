package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestParseStreamOptions(t *testing.T) {
	tests := []struct {
		query   string
		want    streamOptions
		wantErr bool
	}{
		{query: "command=ls&command=-l&output=1&error=1", want: streamOptions{stdout: true, stderr: true, command: []string{"ls", "-l"}}},
		{query: "command=sh&stdin=true&stdout=true&tty=true", want: streamOptions{stdin: true, stdout: true, tty: true, command: []string{"sh"}}},
		{query: "input=1&output=1&error=1&tty=1", want: streamOptions{stdin: true, stdout: true, tty: true}},
		{query: "command=ls&tty=1", wantErr: true},
		{query: "output=maybe", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseStreamOptions(q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(streamOptions{})); !tt.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		query   string
		want    []int32
		wantErr bool
	}{
		{query: ""},
		{query: "port=80&port=8080,9090", want: []int32{80, 8080, 9090}},
		{query: "port=0", wantErr: true},
		{query: "port=65536", wantErr: true},
		{query: "port=http", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := parsePorts(q)
			if (err != nil) != tt.wantErr || !cmp.Equal(tt.want, got) {
				t.Errorf("parsePorts = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseLogOptions(t *testing.T) {
	since := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ptr := func(n int64) *int64 { return &n }
	tests := []struct {
		query   string
		want    *corev1.PodLogOptions
		wantErr bool
	}{
		{query: "", want: &corev1.PodLogOptions{}},
		{
			query: "follow=true&previous=1&timestamps=true&tailLines=0&limitBytes=10&sinceTime=2026-01-02T03:04:05Z",
			want: &corev1.PodLogOptions{Follow: true, Previous: true, Timestamps: true, TailLines: ptr(0), LimitBytes: ptr(10),
				SinceTime: &since},
		},
		{query: "sinceSeconds=5", want: &corev1.PodLogOptions{SinceSeconds: ptr(5)}},
		{query: "sinceSeconds=0", wantErr: true},
		{query: "limitBytes=0", wantErr: true},
		{query: "tailLines=-1", wantErr: true},
		{query: "tailLines=x", wantErr: true},
		{query: "follow=yes", wantErr: true},
		{query: "sinceTime=yesterday", wantErr: true},
		{query: "sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := parseLogOptions(q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteExitStatus(t *testing.T) {
	exit3 := utilexec.CodeExitError{Err: errors.New("command terminated with exit code 3"), Code: 3}
	tests := []struct {
		name     string
		protocol string
		err      error
		want     string
		status   *metav1.Status
	}{
		{name: "v5 success", protocol: "v5.channel.k8s.io", status: &metav1.Status{Status: metav1.StatusSuccess}},
		{name: "v4 exit code", protocol: "v4.channel.k8s.io", err: fmt.Errorf("stream: %w", exit3), status: &metav1.Status{
			Status: metav1.StatusFailure, Reason: "NonZeroExitCode",
			Message: "command terminated with non-zero exit code: stream: command terminated with exit code 3",
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: "3"}}},
		}},
		{name: "v5 other error", protocol: "v5.channel.k8s.io", err: errors.New("boom"), status: &metav1.Status{
			Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError, Code: 500, Message: "boom",
		}},
		{name: "v1 error text", protocol: "channel.k8s.io", err: errors.New("boom"), want: "boom"},
		{name: "v1 success says nothing", protocol: "channel.k8s.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeExitStatus(&buf, tt.protocol, tt.err); err != nil {
				t.Fatal(err)
			}
			if tt.status == nil {
				if buf.String() != tt.want {
					t.Errorf("wrote %q, want %q", buf.String(), tt.want)
				}
				return
			}
			var got metav1.Status
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			tt.status.Kind, tt.status.APIVersion = "Status", "v1"
			if diff := cmp.Diff(*tt.status, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadNodeStats(t *testing.T) {
	dir := t.TempDir()
	stat := "cpu  100 20 30 1000 50 5 6 7 8 9\ncpu0 100 20 30 1000 50 5 6 7 8 9\nbtime 1700000000\n"
	meminfo := "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\nHugePages_Total:       0\n"
	for name, data := range map[string]string{"stat": stat, "meminfo": meminfo} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got, err := readNodeStats(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	// Busy: user 100 + nice 20 + system 30 + irq 5 + softirq 6 + steal 7
	// ticks of 10ms.
	busy := uint64(168 * 10 * time.Millisecond)
	available, usage, workingSet := uint64(600*1024), uint64(800*1024), uint64(400*1024)
	want := &NodeStats{
		StartTime: metav1.NewTime(time.Unix(1700000000, 0)),
		CPU:       &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: &busy},
		Memory:    &MemoryStats{Time: metav1.NewTime(now), AvailableBytes: &available, UsageBytes: &usage, WorkingSetBytes: &workingSet},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte("intr 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readNodeStats(dir, now); err == nil {
		t.Error("no error for a stat file without a cpu line")
	}
}

func TestRates(t *testing.T) {
	r := newRates()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := r.rate("c", t0, 1000); got != nil {
		t.Errorf("first sample rate = %d, want none", *got)
	}
	got := r.rate("c", t0.Add(2*time.Second), 1000+2e9)
	if got == nil || *got != 1e9 {
		t.Fatalf("rate over 2s of 2e9 ns = %v, want one core", got)
	}
	// Within the minimum window the previous rate stands.
	if again := r.rate("c", t0.Add(2*time.Second+time.Millisecond), 5e9); again == nil || *again != 1e9 {
		t.Errorf("rate within the window = %v, want the previous one", again)
	}
	if reset := r.rate("c", t0.Add(4*time.Second), 10); reset != nil {
		t.Errorf("rate after a counter reset = %d, want none", *reset)
	}
	r.prune(t0.Add(4*time.Second + staleSample + time.Second))
	if len(r.samples) != 0 {
		t.Errorf("stale samples kept: %v", r.samples)
	}
}

func TestNewestPodOnly(t *testing.T) {
	c := func(id, uid string, created int64) *runtimeapi.Container {
		return &runtimeapi.Container{Id: id, CreatedAt: created, Labels: map[string]string{labelPodUID: uid}}
	}
	in := []*runtimeapi.Container{c("old-1", "old", 1), c("new-1", "new", 3), c("old-2", "old", 2), c("new-2", "new", 4)}
	var got []string
	for _, c := range newestPodOnly(in) {
		got = append(got, c.Id)
	}
	if diff := cmp.Diff([]string{"new-1", "new-2"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
