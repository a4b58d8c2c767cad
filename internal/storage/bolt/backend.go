package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tugcluster/tug/internal/storage"
)

var (
	bucketKV   = []byte("kv")
	bucketLog  = []byte("log")
	bucketTTL  = []byte("ttl")
	bucketMeta = []byte("meta")

	metaApplied   = []byte("applied")
	metaCompacted = []byte("compacted")
)

// Backend is the bbolt storage.Backend. Create it with Open.
type Backend struct {
	opts Options
	db   *bbolt.DB
	wal  *wal

	writeCh   chan *writeOp
	inflight  sync.WaitGroup // submitters between the closed check and their reply
	applyCh   chan struct{}  // wakes the applier; capacity 1
	applyMu   sync.Mutex     // one applier at a time (background or Compact)
	compactMu sync.Mutex     // one compaction at a time

	mu        sync.RWMutex
	closed    bool
	failed    error                  // set when the log cannot be written; writes fail from then on
	rev       int64                  // last revision logged
	applied   int64                  // last revision applied to the file
	compacted int64                  // history holds revisions above this
	mem       []*event               // consecutive events; every event above applied is here
	latest    map[string]*event      // newest not yet applied event of each key
	regs      map[*watchReg]struct{} // the watches, told of the writes to their keys
	asked     int64                  // counts RequestWatchProgress calls
	progress  chan struct{}          // closed and replaced whenever applied grows

	stop     context.CancelFunc
	stopped  context.Context
	workers  sync.WaitGroup // writer, applier, sweeper
	watchers sync.WaitGroup
}

var _ storage.Backend = (*Backend)(nil)

// Open opens or creates the store in opts.Dir, replaying the write-ahead
// log into the database file.
func Open(opts Options) (*Backend, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	walDir := filepath.Join(opts.Dir, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", walDir, err)
	}
	path := filepath.Join(opts.Dir, "tug.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:        5 * time.Second,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// A mapping larger than the file lets the applier grow the file
		// without waiting for readers to let go of the old mapping.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	b := &Backend{
		opts:     opts,
		db:       db,
		writeCh:  make(chan *writeOp, opts.MaxBatch),
		applyCh:  make(chan struct{}, 1),
		latest:   map[string]*event{},
		regs:     map[*watchReg]struct{}{},
		progress: make(chan struct{}),
	}
	if err := b.recover(walDir); err != nil {
		_ = db.Close()
		return nil, err
	}
	if b.wal, err = newWAL(walDir, opts.WALSegmentSize, b.rev+1); err != nil {
		_ = db.Close()
		return nil, err
	}
	b.stopped, b.stop = context.WithCancel(context.Background())
	b.workers.Add(3)
	go func() { defer b.workers.Done(); b.runWriter(b.stopped) }()
	go func() { defer b.workers.Done(); b.runApplier(b.stopped) }()
	go func() { defer b.workers.Done(); b.runSweeper(b.stopped) }()
	return b, nil
}

// recover creates the buckets, reads the revisions and applies what the
// write-ahead log holds beyond the file.
func (b *Backend) recover(walDir string) error {
	err := b.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketKV, bucketLog, bucketTTL, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		b.applied = readInt(meta.Get(metaApplied))
		b.compacted = readInt(meta.Get(metaCompacted))
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialize bolt store: %w", err)
	}
	events, err := readWAL(walDir)
	if err != nil {
		return err
	}
	var replay []*event
	for _, e := range events {
		if e.rev <= b.applied {
			continue
		}
		if e.rev != b.applied+int64(len(replay))+1 {
			return fmt.Errorf("wal has a gap: revision %d after %d", e.rev, b.applied+int64(len(replay)))
		}
		replay = append(replay, e)
	}
	for len(replay) > 0 {
		chunk := replay[:min(len(replay), applyChunk)]
		if err := b.db.Update(func(tx *bbolt.Tx) error { return applyEvents(tx, chunk) }); err != nil {
			return fmt.Errorf("replay wal: %w", err)
		}
		b.applied = chunk[len(chunk)-1].rev
		replay = replay[len(chunk):]
	}
	b.rev = b.applied
	// Everything is in the synced file now; start the log afresh.
	return removeWAL(walDir)
}

func readInt(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// Close stops accepting writes, waits for the ones in flight, applies the
// log to the file and releases everything.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.inflight.Wait()
	b.stop()
	b.workers.Wait()
	b.watchers.Wait()
	b.applyPending()
	return errors.Join(b.wal.close(), b.db.Close())
}

// Revision implements storage.Backend.
func (b *Backend) Revision(context.Context) (int64, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return 0, errClosed
	}
	return b.rev, nil
}

var errClosed = storage.Errorf(storage.CodeUnavailable, "", "bolt store is closed")

// Get implements storage.Backend.
func (b *Backend) Get(_ context.Context, key string) (*storage.KeyValue, int64, error) {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, 0, errClosed
	}
	rev := b.rev
	if e, ok := b.latest[key]; ok {
		b.mu.RUnlock()
		if e.cur == nil {
			return nil, rev, nil
		}
		kv := e.cur.keyValue(key)
		return &kv, rev, nil
	}
	tx, err := b.db.Begin(false)
	b.mu.RUnlock()
	if err != nil {
		return nil, 0, storage.Errorf(storage.CodeUnavailable, key, "read %s: %v", key, err)
	}
	defer func() { _ = tx.Rollback() }()
	data := tx.Bucket(bucketKV).Get([]byte(key))
	if data == nil {
		return nil, rev, nil
	}
	r, err := decodeRecord(data)
	if err != nil {
		return nil, 0, storage.Errorf(storage.CodeInvalidObject, key, "read %s: %v", key, err)
	}
	r.value = append([]byte(nil), r.value...)
	kv := r.keyValue(key)
	return &kv, rev, nil
}
