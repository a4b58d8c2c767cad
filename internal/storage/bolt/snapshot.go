package bolt

import (
	"bytes"
	"context"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/tugcluster/tug/internal/storage"
)

// snapshot is a consistent view: the file as of applied, plus the logged
// events after it.
type snapshot struct {
	tx        *bbolt.Tx
	applied   int64
	compacted int64
	rev       int64
	mem       []*event // events with revisions in (applied, rev]
}

// snapshot opens a read transaction together with the events it lacks. The
// applier removes events from mem only after committing them, and only under
// mu, so what the transaction misses is still in mem.
func (b *Backend) snapshot() (*snapshot, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, errClosed
	}
	tx, err := b.db.Begin(false)
	if err != nil {
		return nil, storage.Errorf(storage.CodeUnavailable, "", "begin read: %v", err)
	}
	meta := tx.Bucket(bucketMeta)
	s := &snapshot{
		tx:        tx,
		applied:   readInt(meta.Get(metaApplied)),
		compacted: readInt(meta.Get(metaCompacted)),
		rev:       b.rev,
	}
	if len(b.mem) > 0 {
		first := b.mem[0].rev
		from := max(0, s.applied+1-first)
		s.mem = b.mem[min(from, int64(len(b.mem))):]
	}
	return s, nil
}

func (s *snapshot) close() { _ = s.tx.Rollback() }

// overrides returns, for keys under prefix whose state at rev differs from
// the file's, that state (nil: absent at rev).
func (s *snapshot) overrides(prefix string, rev int64) (map[string]*record, error) {
	adj := map[string]*record{}
	if rev >= s.applied {
		for _, e := range s.mem {
			if e.rev > rev {
				break
			}
			if strings.HasPrefix(e.key, prefix) {
				adj[e.key] = e.cur
			}
		}
		return adj, nil
	}
	// Undo the history after rev: the first change of each key after rev
	// holds its state at rev.
	c := s.tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(revKey(rev + 1)); k != nil; k, v = c.Next() {
		e, _, err := decodeEvent(v)
		if err != nil {
			return nil, storage.Errorf(storage.CodeInvalidObject, "", "history at %x: %v", k, err)
		}
		if e.rev > s.applied {
			break
		}
		if _, seen := adj[e.key]; !seen && strings.HasPrefix(e.key, prefix) {
			adj[e.key] = e.prev
		}
	}
	return adj, nil
}

// checkRevision validates a read revision and resolves 0 to the current one.
func (s *snapshot) checkRevision(rev int64) (int64, error) {
	switch {
	case rev == 0:
		return s.rev, nil
	case rev > s.rev:
		return 0, storage.NewError(storage.CodeTooLargeRevision, "", rev)
	case rev < s.compacted:
		return 0, storage.NewError(storage.CodeExpired, "", rev)
	}
	return rev, nil
}

// Range implements storage.Backend.
func (b *Backend) Range(ctx context.Context, prefix, start string, rev int64, fn func(storage.KeyValue) bool) (int64, error) {
	s, err := b.snapshot()
	if err != nil {
		return 0, err
	}
	defer s.close()
	if rev, err = s.checkRevision(rev); err != nil {
		return 0, err
	}
	adj, err := s.overrides(prefix, rev)
	if err != nil {
		return 0, err
	}
	if start < prefix {
		start = prefix
	}
	keys := make([]string, 0, len(adj))
	for k := range adj {
		if k >= start {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)

	pfx := []byte(prefix)
	c := s.tx.Bucket(bucketKV).Cursor()
	k, v := c.Seek([]byte(start))
	emitted := 0
	for {
		if emitted%1024 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		fileDone := k == nil || !bytes.HasPrefix(k, pfx)
		if fileDone && len(keys) == 0 {
			return rev, nil
		}
		var (
			key string
			r   *record
		)
		if !fileDone && (len(keys) == 0 || string(k) < keys[0]) {
			key = string(k)
			if r, err = decodeRecord(v); err != nil {
				return 0, storage.Errorf(storage.CodeInvalidObject, key, "read %s: %v", key, err)
			}
			k, v = c.Next()
		} else {
			key, keys = keys[0], keys[1:]
			r = adj[key]
			if !fileDone && string(k) == key {
				k, v = c.Next() // the override replaces the file's state
			}
		}
		if r == nil {
			continue
		}
		emitted++
		if !fn(r.keyValue(key)) {
			return rev, nil
		}
	}
}

// Count implements storage.Backend.
func (b *Backend) Count(_ context.Context, prefix string) (int64, error) {
	s, err := b.snapshot()
	if err != nil {
		return 0, err
	}
	defer s.close()
	adj, err := s.overrides(prefix, s.rev)
	if err != nil {
		return 0, err
	}
	var n int64
	pfx := []byte(prefix)
	kvs := s.tx.Bucket(bucketKV)
	c := kvs.Cursor()
	for k, _ := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, _ = c.Next() {
		n++
	}
	for key, r := range adj {
		inFile := kvs.Get([]byte(key)) != nil
		switch {
		case inFile && r == nil:
			n--
		case !inFile && r != nil:
			n++
		}
	}
	return n, nil
}
