package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/etcd/etcdtest"
)

// The go test benchmarks share the harness of the table program; each
// target is opened once and closed by TestMain.
//
//	go test ./bench/storage -run '^$' -bench . -benchtime 2s

func TestMain(m *testing.M) {
	m.Run()
	for _, f := range []*fixture{boltFixture, etcdFixture} {
		f.close()
	}
}

func BenchmarkBoltCreate(b *testing.B) { benchCreate(b, boltFixture) }
func BenchmarkEtcdCreate(b *testing.B) { benchCreate(b, etcdFixture) }
func BenchmarkBoltUpdate(b *testing.B) { benchUpdate(b, boltFixture) }
func BenchmarkEtcdUpdate(b *testing.B) { benchUpdate(b, etcdFixture) }
func BenchmarkBoltGet(b *testing.B)    { benchGet(b, boltFixture) }
func BenchmarkEtcdGet(b *testing.B)    { benchGet(b, etcdFixture) }

func BenchmarkBoltList10k(b *testing.B)  { benchList(b, boltFixture, 10000) }
func BenchmarkEtcdList10k(b *testing.B)  { benchList(b, etcdFixture, 10000) }
func BenchmarkBoltList100k(b *testing.B) { benchList(b, boltFixture, 100000) }
func BenchmarkEtcdList100k(b *testing.B) { benchList(b, etcdFixture, 100000) }

func BenchmarkBoltWatch(b *testing.B) { benchWatch(b, boltFixture) }
func BenchmarkEtcdWatch(b *testing.B) { benchWatch(b, etcdFixture) }

func benchCreate(b *testing.B, f *fixture) {
	for _, c := range concurrencies {
		b.Run(strconv.Itoa(c), func(b *testing.B) {
			be := f.backend(b)
			prefix := f.prefix("create")
			b.ResetTimer()
			res, err := createLoad(b.Context(), be, prefix, c, benchkit.Limit{Ops: int64(b.N)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Rate(), "ops/s")
		})
	}
}

func benchUpdate(b *testing.B, f *fixture) {
	for _, c := range concurrencies {
		b.Run(strconv.Itoa(c), func(b *testing.B) {
			be := f.backend(b)
			prefix := f.prefix("update")
			revs, err := createUpdateKeys(b.Context(), be, prefix, c)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, err := updateLoad(b.Context(), be, prefix, revs, benchkit.Limit{Ops: int64(b.N)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Rate(), "ops/s")
		})
	}
}

func benchGet(b *testing.B, f *fixture) {
	const n = 10000
	be, prefix := f.loaded(b, n)
	b.ResetTimer()
	res, err := getLoad(b.Context(), be, prefix, n, getReaders, benchkit.Limit{Ops: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.Rate(), "ops/s")
}

func benchList(b *testing.B, f *fixture, n int) {
	be, prefix := f.loaded(b, n)
	for b.Loop() {
		if _, err := listOnce(b.Context(), be, prefix, n); err != nil {
			b.Fatal(err)
		}
	}
}

// benchWatch measures delivery to 100 watchers of 1,000 writes/s for one
// second per iteration.
func benchWatch(b *testing.B, f *fixture) {
	be := f.backend(b)
	var res watchResult
	for b.Loop() {
		var err error
		if res, err = watchLatency(b.Context(), be, f.prefix("watch"), 100, 1000, time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(benchkit.Milliseconds(res.fromAck.P50), "p50-ms")
	b.ReportMetric(benchkit.Milliseconds(res.fromAck.P99), "p99-ms")
	b.ReportMetric(float64(res.missing), "missed")
}

// fixture is one target shared by every benchmark, opened on first use.
type fixture struct {
	name string
	open func() (*target, error)

	once sync.Once
	t    *target
	err  error
	seq  atomic.Int64

	mu    sync.Mutex
	lists map[int]string // prefix holding each loaded key count
}

var (
	boltFixture = &fixture{name: targetBolt, open: func() (*target, error) { return openBolt(benchParent()) }}
	etcdFixture = &fixture{name: targetEtcd, open: func() (*target, error) {
		return startEtcd(context.Background(), benchParent(), etcdtest.DefaultBinary)
	}}
)

// benchParent is /var/tmp, a real disk, unless it is missing.
func benchParent() string {
	if _, err := os.Stat("/var/tmp"); err == nil {
		return "/var/tmp"
	}
	return os.TempDir()
}

func (f *fixture) backend(b *testing.B) storage.Backend {
	b.Helper()
	if f.name == targetEtcd {
		etcdtest.RequireBinary(b)
	}
	f.once.Do(func() { f.t, f.err = f.open() })
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.t.backend
}

// prefix returns a key prefix no other benchmark run uses.
func (f *fixture) prefix(what string) string {
	return fmt.Sprintf("/gobench/%s/%d/", what, f.seq.Add(1))
}

// loaded returns the backend and a prefix holding n keys, loading them on
// first use.
func (f *fixture) loaded(b *testing.B, n int) (storage.Backend, string) {
	b.Helper()
	be := f.backend(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.lists[n]; ok {
		return be, p
	}
	p := f.prefix(fmt.Sprintf("list%d", n))
	if _, err := load(b.Context(), be, p, n); err != nil {
		b.Fatal(err)
	}
	if f.lists == nil {
		f.lists = map[int]string{}
	}
	f.lists[n] = p
	return be, p
}

func (f *fixture) close() {
	if f.t == nil {
		return
	}
	if err := f.t.close(); err != nil {
		fmt.Fprintf(os.Stderr, "close %s: %v\n", f.name, err)
	}
}
