package etcd

import (
	"context"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/internal/storage"
)

// Get implements storage.Backend.
func (b *Backend) Get(ctx context.Context, key string) (*storage.KeyValue, int64, error) {
	resp, err := b.client.Get(ctx, key)
	if err != nil {
		return nil, 0, toError(err, key, 0, "get")
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, nil
	}
	kv := fromKV(resp.Kvs[0])
	return &kv, resp.Header.Revision, nil
}

// Range implements storage.Backend. It reads PageSize keys per request, all
// at the revision the first page observed (or rev), so the whole range is
// one consistent snapshot.
func (b *Backend) Range(ctx context.Context, prefix, start string, rev int64,
	fn func(storage.KeyValue) bool) (int64, error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	if start < prefix {
		start = prefix
	}
	if start == "" {
		start = "\x00" // etcd has no empty key; this ranges from the first
	}
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(b.opts.PageSize)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := b.client.Get(ctx, start, opts...)
		if err != nil {
			return 0, toError(err, prefix, rev, "range")
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if !fn(fromKV(kv)) {
				return rev, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Count implements storage.Backend.
func (b *Backend) Count(ctx context.Context, prefix string) (int64, error) {
	resp, err := b.client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, toError(err, prefix, 0, "count")
	}
	return resp.Count, nil
}

// fromKV converts an etcd key-value; it shares the value's bytes.
func fromKV(kv *mvccpb.KeyValue) storage.KeyValue {
	return storage.KeyValue{
		Key:            string(kv.Key),
		Value:          kv.Value,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
	}
}
