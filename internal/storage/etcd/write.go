package etcd

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/internal/storage"
)

// Create implements storage.Backend: one transaction that puts key only if
// its create revision is 0, that is if it does not exist.
func (b *Backend) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, error) {
	put, err := b.putOp(ctx, key, value, ttl)
	if err != nil {
		return 0, err
	}
	resp, err := b.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(put).
		Commit()
	if err != nil {
		return 0, toError(err, key, 0, "create")
	}
	if !resp.Succeeded {
		return 0, storage.NewError(storage.CodeKeyExists, key, resp.Header.Revision)
	}
	return resp.Header.Revision, nil
}

// Update implements storage.Backend: one transaction that puts key if its
// mod revision is the expected one and otherwise reads it, to tell a
// conflict from a missing key.
func (b *Backend) Update(ctx context.Context, key string, value []byte, expectedRevision int64,
	ttl time.Duration) (int64, error) {
	put, err := b.putOp(ctx, key, value, ttl)
	if err != nil {
		return 0, err
	}
	// A missing key compares as mod revision 0; it must not be created.
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", expectedRevision)}
	if expectedRevision <= 0 {
		conds = append(conds, clientv3.Compare(clientv3.CreateRevision(key), ">", 0))
	}
	resp, err := b.client.Txn(ctx).
		If(conds...).
		Then(put).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return 0, toError(err, key, 0, "update")
	}
	if !resp.Succeeded {
		return 0, missingOrConflict(resp, key)
	}
	return resp.Header.Revision, nil
}

// Delete implements storage.Backend.
func (b *Backend) Delete(ctx context.Context, key string, expectedRevision int64) (*storage.KeyValue, int64, error) {
	txn := b.client.Txn(ctx)
	if expectedRevision != 0 {
		txn = txn.If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRevision))
	}
	txn = txn.Then(clientv3.OpDelete(key, clientv3.WithPrevKV()))
	if expectedRevision != 0 {
		txn = txn.Else(clientv3.OpGet(key, clientv3.WithCountOnly()))
	}
	resp, err := txn.Commit()
	if err != nil {
		return nil, 0, toError(err, key, 0, "delete")
	}
	if !resp.Succeeded {
		return nil, 0, missingOrConflict(resp, key)
	}
	del := resp.Responses[0].GetResponseDeleteRange()
	if del == nil || len(del.PrevKvs) == 0 {
		return nil, 0, storage.NewError(storage.CodeKeyNotFound, key, resp.Header.Revision)
	}
	prev := fromKV(del.PrevKvs[0])
	return &prev, resp.Header.Revision, nil
}

// missingOrConflict reads the count-only Get in the Else branch of a failed
// conditional write.
func missingOrConflict(resp *clientv3.TxnResponse, key string) error {
	if get := resp.Responses[0].GetResponseRange(); get != nil && get.Count > 0 {
		return storage.NewError(storage.CodeConflict, key, resp.Header.Revision)
	}
	return storage.NewError(storage.CodeKeyNotFound, key, resp.Header.Revision)
}

// putOp is the put of a create or update, attached to a lease when ttl is
// above zero.
func (b *Backend) putOp(ctx context.Context, key string, value []byte, ttl time.Duration) (clientv3.Op, error) {
	if ttl <= 0 {
		return clientv3.OpPut(key, string(value)), nil
	}
	lease, err := b.leases.get(ctx, ttl)
	if err != nil {
		return clientv3.Op{}, toError(err, key, 0, "grant lease")
	}
	return clientv3.OpPut(key, string(value), clientv3.WithLease(lease)), nil
}
