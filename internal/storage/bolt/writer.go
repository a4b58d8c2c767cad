package bolt

import (
	"bytes"
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tugcluster/tug/internal/storage"
)

type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opDelete
)

// writeOp is one write waiting for a group commit.
type writeOp struct {
	kind     opKind
	key      string
	value    []byte
	expected int64
	expiry   int64

	// Results, valid once done is closed.
	rev  int64
	prev *record
	err  error
	done chan struct{}
}

// Create implements storage.Backend.
func (b *Backend) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, error) {
	op := &writeOp{kind: opCreate, key: key, value: bytes.Clone(value), expiry: expiry(ttl)}
	err := b.submit(ctx, op)
	return op.rev, err
}

// Update implements storage.Backend.
func (b *Backend) Update(ctx context.Context, key string, value []byte, expectedRevision int64, ttl time.Duration) (int64, error) {
	op := &writeOp{kind: opUpdate, key: key, value: bytes.Clone(value), expected: expectedRevision, expiry: expiry(ttl)}
	err := b.submit(ctx, op)
	return op.rev, err
}

// Delete implements storage.Backend.
func (b *Backend) Delete(ctx context.Context, key string, expectedRevision int64) (*storage.KeyValue, int64, error) {
	op := &writeOp{kind: opDelete, key: key, expected: expectedRevision}
	if err := b.submit(ctx, op); err != nil {
		return nil, 0, err
	}
	kv := op.prev.keyValue(key)
	return &kv, op.rev, nil
}

func expiry(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return time.Now().Add(ttl).UnixNano()
}

// submit hands op to the writer and waits for its group commit. A write
// that was handed over is never abandoned: its outcome is reported even if
// ctx ends meanwhile, so callers never mistake a committed write for a failed
// one.
func (b *Backend) submit(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errClosed
	}
	if b.failed != nil {
		err := b.failed
		b.mu.RUnlock()
		return storage.Errorf(storage.CodeUnavailable, op.key, "bolt store failed: %v", err)
	}
	b.inflight.Add(1)
	b.mu.RUnlock()
	defer b.inflight.Done()
	op.done = make(chan struct{})
	b.writeCh <- op // the writer runs until every in-flight submitter is done
	<-op.done
	return op.err
}

// failure is the error that stopped the log, or nil.
func (b *Backend) failure() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.failed
}

// runWriter group-commits: it takes every write that is waiting, logs them
// with one fdatasync, publishes them and replies.
func (b *Backend) runWriter(ctx context.Context) {
	batch := make([]*writeOp, 0, b.opts.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case op := <-b.writeCh:
			batch = append(batch[:0], op)
		}
	more:
		for len(batch) < b.opts.MaxBatch {
			select {
			case op := <-b.writeCh:
				batch = append(batch, op)
			default:
				break more
			}
		}
		b.commit(ctx, batch)
		for _, op := range batch {
			close(op.done)
		}
	}
}

// commit validates the batch against the current state, assigns revisions
// to the writes that pass, logs them durably and publishes them.
func (b *Backend) commit(ctx context.Context, batch []*writeOp) {
	if err := b.failure(); err != nil {
		// Writes handed over before the log failed: the log is not
		// touched again, and they report the failure that stopped it.
		failAll(batch, storage.Errorf(storage.CodeUnavailable, "", "bolt store failed: %v", err))
		return
	}
	b.waitForBacklog(ctx)
	events, err := b.prepare(batch)
	if err != nil {
		failAll(batch, err)
		return
	}
	if len(events) == 0 {
		return
	}
	size := walFrameHeader
	for _, e := range events {
		size += eventSize(e, false)
	}
	frame := make([]byte, walFrameHeader, size)
	for _, e := range events {
		frame = appendEvent(frame, e, false)
	}
	if err := b.wal.append(frame, events[0].rev, events[len(events)-1].rev); err != nil {
		// The log's tail is now unknown: refuse further writes rather
		// than risk acknowledging one that a restart would not replay.
		b.mu.Lock()
		b.failed = err
		b.mu.Unlock()
		failAll(batch, storage.Errorf(storage.CodeUnavailable, "", "write-ahead log: %v", err))
		return
	}
	b.publish(events)
}

func failAll(batch []*writeOp, err error) {
	for _, op := range batch {
		if op.err == nil {
			op.err = err
			op.rev = 0
		}
	}
}

// prepare checks each op against the state it would see and builds the
// events of those that pass. Ops on one key in one batch see each other.
func (b *Backend) prepare(batch []*writeOp) ([]*event, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	tx, err := b.db.Begin(false)
	if err != nil {
		return nil, storage.Errorf(storage.CodeUnavailable, "", "begin read: %v", err)
	}
	defer func() { _ = tx.Rollback() }()
	kvs := tx.Bucket(bucketKV)
	local := map[string]*record{}
	current := func(key string) (*record, error) {
		if r, ok := local[key]; ok {
			return r, nil
		}
		if e, ok := b.latest[key]; ok {
			return e.cur, nil
		}
		return fileRecord(kvs, key)
	}
	now := time.Now().UnixNano()
	rev := b.rev
	events := make([]*event, 0, len(batch))
	for _, op := range batch {
		cur, err := current(op.key)
		if err != nil {
			op.err = err
			continue
		}
		e := &event{time: now, typ: storage.EventPut, key: op.key, prev: cur}
		switch op.kind {
		case opCreate:
			if cur != nil {
				op.err = storage.NewError(storage.CodeKeyExists, op.key, cur.modRev)
				continue
			}
			e.cur = &record{createRev: rev + 1, value: op.value, expiry: op.expiry}
		case opUpdate:
			if cur == nil {
				op.err = storage.NewError(storage.CodeKeyNotFound, op.key, 0)
				continue
			}
			if cur.modRev != op.expected {
				op.err = storage.NewError(storage.CodeConflict, op.key, cur.modRev)
				continue
			}
			e.cur = &record{createRev: cur.createRev, value: op.value, expiry: op.expiry}
		case opDelete:
			if cur == nil {
				op.err = storage.NewError(storage.CodeKeyNotFound, op.key, 0)
				continue
			}
			if op.expected != 0 && cur.modRev != op.expected {
				op.err = storage.NewError(storage.CodeConflict, op.key, cur.modRev)
				continue
			}
			e.typ = storage.EventDelete
		}
		rev++
		e.rev = rev
		if e.cur != nil {
			e.cur.modRev = rev
		}
		local[op.key] = e.cur
		op.rev, op.prev = rev, cur
		events = append(events, e)
	}
	return events, nil
}

// fileRecord reads key from the file, copying the value out of the mmap.
func fileRecord(kvs *bbolt.Bucket, key string) (*record, error) {
	data := kvs.Get([]byte(key))
	if data == nil {
		return nil, nil
	}
	r, err := decodeRecord(data)
	if err != nil {
		return nil, storage.Errorf(storage.CodeInvalidObject, key, "read %s: %v", key, err)
	}
	r.value = bytes.Clone(r.value)
	return r, nil
}

// publish makes logged events visible to readers and watchers.
func (b *Backend) publish(events []*event) {
	b.mu.Lock()
	b.mem = append(b.mem, events...)
	for _, e := range events {
		b.latest[e.key] = e
	}
	b.rev = events[len(events)-1].rev
	b.routeLocked(events)
	b.mu.Unlock()
	select {
	case b.applyCh <- struct{}{}:
	default:
	}
}

// waitForBacklog holds the writer while too many logged writes wait to be
// applied, which bounds memory.
func (b *Backend) waitForBacklog(ctx context.Context) {
	for {
		b.mu.RLock()
		backlog := b.rev - b.applied
		progress := b.progress
		b.mu.RUnlock()
		if backlog < int64(b.opts.MaxBacklog) {
			return
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return
		}
	}
}
