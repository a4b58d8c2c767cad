package storagetest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/storagetest"
)

// memory is a deliberately simple storage.Backend used only to exercise the
// suite: the current state in a map, every event since revision 1 in a
// slice (history[i] is revision i+1), and, when opened on a directory, an
// append-only log of writes that is replayed on open so the crash test has
// something to crash.
type memory struct {
	mu        sync.Mutex
	rev       int64
	compacted int64
	kvs       map[string]storage.KeyValue
	history   []storage.Event
	expiry    map[string]time.Time
	changed   chan struct{} // closed and replaced on every write
	log       *os.File
	closed    bool

	stop chan struct{}
	wg   sync.WaitGroup
}

var (
	_ storage.Backend       = (*memory)(nil)
	_ storagetest.Compactor = (*memory)(nil)
)

// logRecord is one write in the log.
type logRecord struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value []byte `json:"value,omitempty"`
}

func newMemory() *memory {
	m := emptyMemory()
	m.wg.Go(m.expireLoop)
	return m
}

func emptyMemory() *memory {
	return &memory{
		kvs:     map[string]storage.KeyValue{},
		expiry:  map[string]time.Time{},
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
}

// openMemory opens the memory backend logged in dir, replaying the log. A
// torn last record (the process was killed mid-write) is ignored.
func openMemory(dir string) (storage.Backend, error) {
	path := filepath.Join(dir, "memory.log")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m := emptyMemory() // no goroutines until the log is replayed
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	valid := 0
	for sc.Scan() {
		line := sc.Bytes()
		var rec logRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			break
		}
		end := valid + len(line) + 1
		if end > len(data) { // the last line lacks its newline: torn
			break
		}
		valid = end
		if rec.Op == "put" {
			m.putLocked(rec.Key, rec.Value)
		} else {
			m.deleteLocked(rec.Key)
		}
	}
	f, err := openLog(path, int64(valid))
	if err != nil {
		return nil, err
	}
	m.log = f
	m.wg.Go(m.expireLoop)
	return m, nil
}

// openLog opens the log for appending after its first size bytes.
func openLog(path string, size int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return nil, err
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func (m *memory) expireLoop() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			m.mu.Lock()
			var keys []string
			for k, at := range m.expiry {
				if !now.Before(at) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := m.logLocked("del", k, nil); err == nil {
					m.deleteLocked(k)
				}
			}
			m.mu.Unlock()
		}
	}
}

func (m *memory) logLocked(op, key string, value []byte) error {
	if m.closed {
		return storage.NewError(storage.CodeUnavailable, key, 0)
	}
	if m.log == nil {
		return nil
	}
	line, err := json.Marshal(logRecord{Op: op, Key: key, Value: value})
	if err != nil {
		return err
	}
	_, err = m.log.Write(append(line, '\n'))
	return err
}

func (m *memory) putLocked(key string, value []byte) int64 {
	m.rev++
	kv := storage.KeyValue{Key: key, Value: bytes.Clone(value), CreateRevision: m.rev, ModRevision: m.rev}
	ev := storage.Event{Type: storage.EventPut, KV: kv}
	if prev, ok := m.kvs[key]; ok {
		kv.CreateRevision = prev.CreateRevision
		ev.KV.CreateRevision = prev.CreateRevision
		ev.Prev = &prev
	}
	m.kvs[key] = kv
	m.record(ev)
	return m.rev
}

func (m *memory) deleteLocked(key string) int64 {
	prev := m.kvs[key]
	m.rev++
	delete(m.kvs, key)
	delete(m.expiry, key)
	m.record(storage.Event{
		Type: storage.EventDelete,
		KV:   storage.KeyValue{Key: key, ModRevision: m.rev},
		Prev: &prev,
	})
	return m.rev
}

func (m *memory) record(ev storage.Event) {
	m.history = append(m.history, ev)
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *memory) setTTL(key string, ttl time.Duration) {
	if ttl > 0 {
		m.expiry[key] = time.Now().Add(ttl)
	} else {
		delete(m.expiry, key)
	}
}

func (m *memory) Get(_ context.Context, key string) (*storage.KeyValue, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kv, ok := m.kvs[key]
	if !ok {
		return nil, m.rev, nil
	}
	return &kv, m.rev, nil
}

func (m *memory) Range(_ context.Context, prefix, start string, rev int64, fn func(storage.KeyValue) bool) (int64, error) {
	m.mu.Lock()
	if rev == 0 {
		rev = m.rev
	}
	if rev > m.rev {
		m.mu.Unlock()
		return 0, storage.NewError(storage.CodeTooLargeRevision, prefix, rev)
	}
	if rev < m.compacted {
		m.mu.Unlock()
		return 0, storage.NewError(storage.CodeExpired, prefix, rev)
	}
	state := make(map[string]storage.KeyValue, len(m.kvs))
	for k, kv := range m.kvs {
		state[k] = kv
	}
	for i := len(m.history) - 1; i >= 0 && m.history[i].KV.ModRevision > rev; i-- {
		ev := m.history[i]
		if ev.Prev == nil {
			delete(state, ev.KV.Key)
		} else {
			state[ev.KV.Key] = *ev.Prev
		}
	}
	m.mu.Unlock()

	keys := make([]string, 0, len(state))
	for k := range state {
		if strings.HasPrefix(k, prefix) && k >= start {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn(state[k]) {
			break
		}
	}
	return rev, nil
}

func (m *memory) Count(_ context.Context, prefix string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k := range m.kvs {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n, nil
}

func (m *memory) Create(_ context.Context, key string, value []byte, ttl time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.kvs[key]; ok {
		return 0, storage.NewError(storage.CodeKeyExists, key, m.rev)
	}
	if err := m.logLocked("put", key, value); err != nil {
		return 0, err
	}
	rev := m.putLocked(key, value)
	m.setTTL(key, ttl)
	return rev, nil
}

func (m *memory) Update(_ context.Context, key string, value []byte, expectedRevision int64, ttl time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.kvs[key]
	if !ok {
		return 0, storage.NewError(storage.CodeKeyNotFound, key, m.rev)
	}
	if cur.ModRevision != expectedRevision {
		return 0, storage.NewError(storage.CodeConflict, key, m.rev)
	}
	if err := m.logLocked("put", key, value); err != nil {
		return 0, err
	}
	rev := m.putLocked(key, value)
	m.setTTL(key, ttl)
	return rev, nil
}

func (m *memory) Delete(_ context.Context, key string, expectedRevision int64) (*storage.KeyValue, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.kvs[key]
	if !ok {
		return nil, 0, storage.NewError(storage.CodeKeyNotFound, key, m.rev)
	}
	if expectedRevision != 0 && cur.ModRevision != expectedRevision {
		return nil, 0, storage.NewError(storage.CodeConflict, key, m.rev)
	}
	if err := m.logLocked("del", key, nil); err != nil {
		return nil, 0, err
	}
	return &cur, m.deleteLocked(key), nil
}

func (m *memory) Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan storage.WatchResponse {
	ch := make(chan storage.WatchResponse)
	m.mu.Lock()
	if rev == 0 {
		rev = m.rev
	}
	m.mu.Unlock()
	matches := func(k string) bool {
		if prefix {
			return strings.HasPrefix(k, key)
		}
		return k == key
	}
	m.wg.Go(func() {
		defer close(ch)
		next := rev + 1
		for {
			m.mu.Lock()
			if next <= m.compacted {
				m.mu.Unlock()
				select {
				case ch <- storage.WatchResponse{Err: storage.NewError(storage.CodeExpired, key, next-1)}:
				case <-ctx.Done():
				case <-m.stop:
				}
				return
			}
			var evs []storage.Event
			for ; next <= m.rev; next++ {
				if ev := m.history[next-1]; matches(ev.KV.Key) {
					evs = append(evs, ev)
				}
			}
			changed := m.changed
			m.mu.Unlock()
			if len(evs) > 0 {
				select {
				case ch <- storage.WatchResponse{Events: evs}:
				case <-ctx.Done():
					return
				case <-m.stop:
					return
				}
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			case <-m.stop:
				return
			}
		}
	})
	return ch
}

func (m *memory) Revision(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rev, nil
}

// Compact implements storagetest.Compactor: revisions below rev become
// unreadable and watches that need an event at or below rev fail.
func (m *memory) Compact(_ context.Context, rev int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rev > m.rev {
		return storage.NewError(storage.CodeTooLargeRevision, "", rev)
	}
	m.compacted = max(m.compacted, rev)
	return nil
}

func (m *memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	m.wg.Wait()
	if m.log != nil {
		return m.log.Close()
	}
	return nil
}
