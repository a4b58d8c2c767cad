package bolt

import (
	"context"
	"encoding/binary"
	"time"

	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/storage"
)

// runSweeper deletes keys whose TTL has passed, every CompactInterval,
// through the ordinary write path so watchers see the deletes.
func (b *Backend) runSweeper(ctx context.Context) {
	ticker := time.NewTicker(b.opts.CompactInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			b.sweep(ctx)
		}
	}
}

type expired struct {
	key string
	rev int64
}

func (b *Backend) sweep(ctx context.Context) {
	victims, err := b.expiredKeys(time.Now().UnixNano())
	if err != nil {
		klog.FromContext(ctx).Error(err, "Finding expired storage keys failed")
		return
	}
	for _, v := range victims {
		// Conditional on the revision seen: a key rewritten since keeps living.
		if _, _, err := b.Delete(ctx, v.key, v.rev); err != nil && !storage.IsConflict(err) && !storage.IsNotFound(err) {
			if ctx.Err() == nil {
				klog.FromContext(ctx).Error(err, "Deleting expired storage key failed", "key", v.key)
			}
			return
		}
	}
}

// expiredKeys returns the keys whose current state expired before now.
func (b *Backend) expiredKeys(now int64) ([]expired, error) {
	s, err := b.snapshot()
	if err != nil {
		return nil, err
	}
	defer s.close()
	var out []expired
	current := map[string]*record{}
	for _, e := range s.mem {
		current[e.key] = e.cur
	}
	for key, r := range current {
		if r != nil && r.expiry != 0 && r.expiry <= now {
			out = append(out, expired{key: key, rev: r.modRev})
		}
	}
	kvs := s.tx.Bucket(bucketKV)
	c := s.tx.Bucket(bucketTTL).Cursor()
	for k, _ := c.First(); len(k) >= 8; k, _ = c.Next() {
		at := int64(binary.BigEndian.Uint64(k))
		if at > now {
			break
		}
		key := string(k[8:])
		if _, changed := current[key]; changed {
			continue // its state in memory decided above
		}
		data := kvs.Get(k[8:])
		if data == nil {
			continue
		}
		r, err := decodeRecord(data)
		if err != nil {
			return nil, err
		}
		if r.expiry == at {
			out = append(out, expired{key: key, rev: r.modRev})
		}
	}
	return out, nil
}
