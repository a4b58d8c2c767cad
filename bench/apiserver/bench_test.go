package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// The go test benchmarks share the harness of the table program against
// one tug process, built and started on first use and stopped by TestMain.
// Timing is never asserted.
//
//	go test ./bench/apiserver -run '^$' -bench . -benchtime 5000x

// benchClients is the concurrency of the benchmarks, as in the table.
const benchClients = 64

var fixture struct {
	once    sync.Once
	dir     string
	server  *server
	clients []*kubernetes.Clientset
	err     error
	next    atomic.Int64 // index of the next pod to create, across benchmarks
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.server != nil {
		_ = fixture.server.stop()
	}
	if fixture.dir != "" {
		_ = os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// tugClients starts tug once and returns benchClients clients of it.
func tugClients(b *testing.B) []*kubernetes.Clientset {
	b.Helper()
	fixture.once.Do(func() {
		ctx := context.Background()
		if fixture.dir, fixture.err = os.MkdirTemp("/var/tmp", "bench-apiserver-test-"); fixture.err != nil {
			return
		}
		bin := filepath.Join(fixture.dir, "tug-binary")
		if fixture.err = benchkit.BuildTug(ctx, bin); fixture.err != nil {
			return
		}
		if fixture.server, fixture.err = (tugLauncher{bin: bin}).start(ctx, filepath.Join(fixture.dir, "tug")); fixture.err != nil {
			return
		}
		if fixture.clients, fixture.err = newClients(fixture.server.config, benchClients); fixture.err != nil {
			return
		}
		for i := range podNamespaces {
			if fixture.err = ensureNamespace(ctx, fixture.clients[0], podNamespace(i)); fixture.err != nil {
				return
			}
		}
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
	return fixture.clients
}

// runParallel runs op from benchClients goroutines, each with a client of
// its own.
func runParallel(b *testing.B, op func(ctx context.Context, c kubernetes.Interface) error) {
	clients := tugClients(b)
	var worker atomic.Int64
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := clients[int(worker.Add(1)-1)%len(clients)]
		for pb.Next() {
			if err := op(b.Context(), c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkTugPodCreate(b *testing.B) {
	errs := newErrorLog()
	runParallel(b, func(ctx context.Context, c kubernetes.Interface) error {
		i := int(fixture.next.Add(1) - 1)
		_, err := createPod(ctx, c, newPod(podNamespace(i), podName(i)), errs, "create")
		return err
	})
	if n := errs.total(); n > 0 {
		b.Logf("%d create attempts failed and were retried", n)
	}
}

func BenchmarkTugPodGet(b *testing.B) {
	clients := tugClients(b)
	const pods = 1000
	if created := fixture.next.Load(); created < pods {
		_, err := benchkit.RunOps(b.Context(), len(clients), benchkit.Limit{Ops: pods - created}, func(ctx context.Context, w int, i int64) error {
			j := int(created + i)
			_, err := createPod(ctx, clients[w], newPod(podNamespace(j), podName(j)), newErrorLog(), "create")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		fixture.next.Store(pods)
	}
	var seq atomic.Int64
	runParallel(b, func(ctx context.Context, c kubernetes.Interface) error {
		j := int((seq.Add(1) - 1) * 7919 % pods)
		_, err := c.CoreV1().Pods(podNamespace(j)).Get(ctx, podName(j), metav1.GetOptions{})
		return err
	})
}
