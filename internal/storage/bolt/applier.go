package bolt

import (
	"context"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/storage"
)

// applyChunk caps the events one file transaction applies.
const applyChunk = 10000

// runApplier applies logged writes to the file, at most every
// ApplyInterval, and compacts history every CompactInterval.
func (b *Backend) runApplier(ctx context.Context) {
	ticker := time.NewTicker(b.opts.CompactInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.applyCh:
			// Let writes gather so that each synced transaction carries many.
			select {
			case <-time.After(b.opts.ApplyInterval):
			case <-ctx.Done():
				return
			}
			b.applyPending()
		case <-ticker.C:
			b.applyPending()
			if err := b.compactHistory(ctx); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).Error(err, "Compacting storage history failed")
			}
		}
	}
}

// applyPending writes every logged event not yet in the file, then drops
// them from the set reads must merge and releases their log segments.
func (b *Backend) applyPending() {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	for {
		b.mu.RLock()
		var pending []*event
		if n := len(b.mem); n > 0 && b.mem[n-1].rev > b.applied {
			from := b.applied + 1 - b.mem[0].rev
			pending = b.mem[from:min(int64(n), from+applyChunk)]
		}
		b.mu.RUnlock()
		if len(pending) == 0 {
			return
		}
		if err := b.db.Update(func(tx *bbolt.Tx) error { return applyEvents(tx, pending) }); err != nil {
			// The events stay in memory and in the log; the next round retries.
			klog.Background().Error(err, "Applying logged writes to the bolt file failed")
			return
		}
		last := pending[len(pending)-1].rev
		b.mu.Lock()
		b.applied = last
		for _, e := range pending {
			if b.latest[e.key] == e {
				delete(b.latest, e.key)
			}
		}
		// Keep MemoryEvents applied events for watchers and recent reads.
		if drop := min(last-b.mem[0].rev+1, int64(len(b.mem)-b.opts.MemoryEvents)); drop > 0 {
			b.mem = slices.Clone(b.mem[drop:])
		}
		close(b.progress)
		b.progress = make(chan struct{})
		b.mu.Unlock()
		if err := b.wal.release(last); err != nil {
			klog.Background().Error(err, "Releasing write-ahead log segments failed")
		}
	}
}

// applyEvents writes events, in order, to the file. The previous state of
// each key is read from the file itself, so replaying a log that carries no
// previous states rebuilds the same history.
func applyEvents(tx *bbolt.Tx, events []*event) error {
	kvs, hist, ttl := tx.Bucket(bucketKV), tx.Bucket(bucketLog), tx.Bucket(bucketTTL)
	hist.FillPercent = 1 // history keys only ever grow
	for _, e := range events {
		key := []byte(e.key)
		var prev *record
		if data := kvs.Get(key); data != nil {
			r, err := decodeRecord(data)
			if err != nil {
				return err
			}
			// prev's value points into the file's memory, valid for this
			// transaction and not written over before the history entry
			// copies it below.
			prev = &record{createRev: r.createRev, modRev: r.modRev, expiry: r.expiry, value: r.value}
		}
		entry := *e
		entry.prev = prev
		historyEntry := appendEvent(nil, &entry, true)
		if prev != nil && prev.expiry != 0 {
			if err := ttl.Delete(ttlKey(prev.expiry, e.key)); err != nil {
				return err
			}
		}
		if e.cur != nil {
			if err := kvs.Put(key, encodeRecord(e.cur)); err != nil {
				return err
			}
			if e.cur.expiry != 0 {
				if err := ttl.Put(ttlKey(e.cur.expiry, e.key), nil); err != nil {
					return err
				}
			}
		} else if err := kvs.Delete(key); err != nil {
			return err
		}
		if err := hist.Put(revKey(e.rev), historyEntry); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(metaApplied, revKey(events[len(events)-1].rev))
}

// compactHistory drops history older than HistoryMaxAge or beyond the
// newest HistoryMaxEvents entries.
func (b *Backend) compactHistory(ctx context.Context) error {
	b.mu.RLock()
	applied, compacted := b.applied, b.compacted
	b.mu.RUnlock()
	target := applied - b.opts.HistoryMaxEvents
	cutoff := time.Now().Add(-b.opts.HistoryMaxAge).UnixNano()
	err := b.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(revKey(max(target, compacted) + 1)); k != nil; k, v = c.Next() {
			e, _, err := decodeEvent(v)
			if err != nil {
				return err
			}
			if e.time >= cutoff || e.rev > applied {
				break
			}
			target = e.rev
		}
		return nil
	})
	if err != nil {
		return err
	}
	if target <= compacted {
		return nil
	}
	return b.Compact(ctx, target)
}

// Compact drops the history up to and including rev: reads and watches at
// revisions below rev fail with an expired error from then on.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	b.compactMu.Lock()
	defer b.compactMu.Unlock()
	b.mu.RLock()
	current, applied, compacted := b.rev, b.applied, b.compacted
	b.mu.RUnlock()
	if rev > current {
		return storage.NewError(storage.CodeTooLargeRevision, "", rev)
	}
	if rev <= compacted {
		return nil
	}
	if rev > applied {
		b.applyPending()
	}
	// Publish the new floor first so no new reader starts below it, then
	// delete in bounded transactions.
	b.mu.Lock()
	b.compacted = max(b.compacted, rev)
	b.mu.Unlock()
	from := compacted + 1
	for from <= rev {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(rev, from+applyChunk-1)
		err := b.db.Update(func(tx *bbolt.Tx) error {
			hist := tx.Bucket(bucketLog)
			c := hist.Cursor()
			for k, _ := c.Seek(revKey(from)); k != nil && readInt(k) <= to; k, _ = c.Seek(revKey(from)) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(metaCompacted, revKey(to))
		})
		if err != nil {
			return storage.Errorf(storage.CodeUnavailable, "", "compact history: %v", err)
		}
		from = to + 1
	}
	return nil
}
