package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tugcluster/tug/internal/storage"
)

// atomicBackend holds the backend whose revision is exported.
type atomicBackend = atomic.Pointer[backendRef]

// backendRef boxes a Backend for atomic.Pointer.
type backendRef struct{ storage.Backend }

// instrumentedBackend times and counts the calls it passes to inner.
type instrumentedBackend struct {
	inner storage.Backend
	m     *storageMetrics

	// stopped is closed by Close, so that forwarding goroutines blocked on
	// a consumer that does not read give up; forwarders tracks them.
	stopped    chan struct{}
	stopOnce   sync.Once
	forwarders sync.WaitGroup
}

func newInstrumentedBackend(b storage.Backend, m *storageMetrics) *instrumentedBackend {
	return &instrumentedBackend{inner: b, m: m, stopped: make(chan struct{})}
}

// done records one call of op that started at start.
func (b *instrumentedBackend) done(op operation, start time.Time, err error) {
	b.m.observe[op].Observe(time.Since(start).Seconds())
	if err != nil {
		b.m.failed[op].Inc()
		return
	}
	b.m.ok[op].Inc()
}

func (b *instrumentedBackend) Get(ctx context.Context, key string) (*storage.KeyValue, int64, error) {
	start := time.Now()
	kv, rev, err := b.inner.Get(ctx, key)
	b.done(opGet, start, err)
	return kv, rev, err
}

func (b *instrumentedBackend) Range(ctx context.Context, prefix, start string, rev int64, fn func(storage.KeyValue) bool) (int64, error) {
	began := time.Now()
	read, err := b.inner.Range(ctx, prefix, start, rev, fn)
	b.done(opRange, began, err)
	return read, err
}

func (b *instrumentedBackend) Count(ctx context.Context, prefix string) (int64, error) {
	start := time.Now()
	n, err := b.inner.Count(ctx, prefix)
	b.done(opCount, start, err)
	return n, err
}

func (b *instrumentedBackend) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, error) {
	start := time.Now()
	rev, err := b.inner.Create(ctx, key, value, ttl)
	b.done(opCreate, start, err)
	return rev, err
}

func (b *instrumentedBackend) Update(ctx context.Context, key string, value []byte, expectedRevision int64, ttl time.Duration) (int64, error) {
	start := time.Now()
	rev, err := b.inner.Update(ctx, key, value, expectedRevision, ttl)
	b.done(opUpdate, start, err)
	return rev, err
}

func (b *instrumentedBackend) Delete(ctx context.Context, key string, expectedRevision int64) (*storage.KeyValue, int64, error) {
	start := time.Now()
	kv, rev, err := b.inner.Delete(ctx, key, expectedRevision)
	b.done(opDelete, start, err)
	return kv, rev, err
}

// Watch counts the watch in tug_storage_watchers until the backend closes
// its channel. A goroutine forwards the responses; it ends when the inner
// channel closes, which the Backend contract promises once ctx is done or
// the backend is closed. If either happens while the consumer is not
// reading, the responses not yet taken are dropped, as the backends do.
func (b *instrumentedBackend) Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan storage.WatchResponse {
	in := b.inner.Watch(ctx, key, prefix, rev)
	out := make(chan storage.WatchResponse, cap(in))
	b.m.watchers.Inc()
	b.forwarders.Go(func() {
		defer close(out)
		defer b.m.watchers.Dec() // before close: a closed channel means the gauge is down
		for resp := range in {
			select {
			case out <- resp:
				continue
			case <-ctx.Done():
			case <-b.stopped:
			}
			for range in { // drain until the backend closes the channel
			}
			return
		}
	})
	return out
}

// RequestWatchProgress implements storage.WatchProgressRequester when the
// inner backend does; otherwise watches report progress unasked only.
func (b *instrumentedBackend) RequestWatchProgress(ctx context.Context) error {
	if r, ok := b.inner.(storage.WatchProgressRequester); ok {
		return r.RequestWatchProgress(ctx)
	}
	return nil
}

func (b *instrumentedBackend) Revision(ctx context.Context) (int64, error) {
	return b.inner.Revision(ctx)
}

// Close closes the inner backend and waits for the watch forwarders.
func (b *instrumentedBackend) Close() error {
	b.stopOnce.Do(func() { close(b.stopped) })
	err := b.inner.Close()
	b.forwarders.Wait()
	return err
}
