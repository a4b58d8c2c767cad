package node

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// startupPods is how many pods BenchmarkPodStartup creates at once.
const startupPods = 100

// BenchmarkPodStartup measures pod start-up latency on one real node: 100
// busybox pods (image present) created at once, each timed from just
// before its create call to the watch event that shows it Running and
// Ready. It reports p50/p99 and the agent's resident memory idle and with
// the 100 pods running.
//
//	go test -run '^$' -bench PodStartup -benchtime 1x ./test/node/
func BenchmarkPodStartup(b *testing.B) {
	c := nodetest.StartCluster(b, 1)
	node := c.Nodes[0]
	ctx := context.Background()
	// Let the agent settle: it gives back its start-up pages 10 s in.
	time.Sleep(15 * time.Second)
	idleRSS, idleAnon := rssMiB(b, node.Pid(), "VmRSS"), rssMiB(b, node.Pid(), "RssAnon")
	for i := range b.N {
		agent0, machine0 := cpuSeconds(b, node.Pid()), machineCPUSeconds(b)
		latencies := startPods(ctx, b, c, fmt.Sprintf("s%d-", i))
		b.ReportMetric(cpuSeconds(b, node.Pid())-agent0, "agent-cpu-s")
		b.ReportMetric(machineCPUSeconds(b)-machine0, "machine-cpu-s")
		slices.Sort(latencies)
		b.ReportMetric(ms(percentile(latencies, 50)), "p50-ms")
		b.ReportMetric(ms(percentile(latencies, 99)), "p99-ms")
		b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
		b.ReportMetric(rssMiB(b, node.Pid(), "VmRSS"), "agent-MiB-100pods")
		deletePods(ctx, b, c)
	}
	b.ReportMetric(idleRSS, "agent-MiB-idle")
	b.ReportMetric(idleAnon, "agent-anon-MiB-idle")
}

// startPods creates startupPods pods at once and returns each one's
// create-to-running latency.
func startPods(ctx context.Context, b *testing.B, c *nodetest.Cluster, prefix string) []time.Duration {
	// client-go's default 5 QPS would pace the creates, not the node.
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = 1000, 1000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	pods := client.CoreV1().Pods(metav1.NamespaceDefault)
	w, err := pods.Watch(ctx, metav1.ListOptions{LabelSelector: "bench=startup"})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	started := map[string]time.Time{}
	var wg sync.WaitGroup
	for i := range startupPods {
		wg.Go(func() {
			pod := busybox(prefix+strconv.Itoa(i), "sleep 3600")
			pod.Labels = map[string]string{"bench": "startup"}
			mu.Lock()
			started[pod.Name] = time.Now()
			mu.Unlock()
			if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				b.Error(err)
			}
		})
	}
	latencies := make([]time.Duration, 0, startupPods)
	seen := map[string]bool{}
	timeout := time.After(5 * time.Minute)
	for len(latencies) < startupPods {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				b.Fatal("watch closed")
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Deleted || seen[pod.Name] || !running(pod) {
				continue
			}
			now := time.Now()
			mu.Lock()
			t0, ok := started[pod.Name]
			mu.Unlock()
			if ok {
				seen[pod.Name] = true
				latencies = append(latencies, now.Sub(t0))
			}
		case <-timeout:
			b.Fatalf("only %d of %d pods running after 5 minutes", len(latencies), startupPods)
		}
	}
	wg.Wait()
	return latencies
}

// deletePods deletes the benchmark's pods and waits until they are gone.
func deletePods(ctx context.Context, b *testing.B, c *nodetest.Cluster) {
	pods := c.Client.CoreV1().Pods(metav1.NamespaceDefault)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{LabelSelector: "bench=startup"}); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "bench=startup"})
		if err == nil && len(list.Items) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatal("benchmark pods not deleted within 2 minutes")
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuSeconds is the user and system CPU time a process has used.
func cpuSeconds(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) at its ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / clockTicks
}

// machineCPUSeconds is the busy (non-idle) CPU time of the whole machine.
func machineCPUSeconds(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(strings.SplitN(string(data), "\n", 2)[0])[1:]
	var busy float64
	for i, f := range fields {
		v, _ := strconv.ParseFloat(f, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times on Linux.
const clockTicks = 100

// rssMiB reads a process's resident memory: field is VmRSS (all of it)
// or RssAnon (without the pages of files, its executable's included).
func rssMiB(b *testing.B, pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s for pid %d", field, pid)
	return 0
}
