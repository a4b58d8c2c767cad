package etcd

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/internal/storage"
)

// Watch implements storage.Backend with one etcd watch, asking for the
// previous value of every change.
func (b *Backend) Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.ctx, cancel)
	opts := []clientv3.OpOption{clientv3.WithPrevKV()}
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev+1))
	}
	// Fail the watch, rather than wait, while the cluster has no leader.
	in := b.client.Watch(clientv3.WithRequireLeader(ctx), key, opts...)
	b.watches.Go(func() {
		defer close(out)
		defer stop()
		defer cancel()
		for resp := range in {
			if err := resp.Err(); err != nil {
				send(ctx, out, storage.WatchResponse{Err: watchError(err, key, rev)})
				return
			}
			if resp.IsProgressNotify() {
				if !send(ctx, out, storage.WatchResponse{Revision: resp.Header.Revision}) {
					return
				}
				continue
			}
			if len(resp.Events) == 0 {
				continue
			}
			if !send(ctx, out, storage.WatchResponse{Events: fromEvents(resp.Events)}) {
				return
			}
		}
		// The client closes the channel when ctx is done; otherwise the
		// watch was lost.
		if ctx.Err() == nil {
			send(ctx, out, storage.WatchResponse{
				Err: storage.Errorf(storage.CodeUnavailable, key, "etcd watch on %s closed", key),
			})
		}
	})
	return out
}

// RequestWatchProgress implements storage.WatchProgressRequester: etcd
// sends every watch of the stream Watch uses (the client's streams are
// told apart by their contexts' metadata) a progress notification.
func (b *Backend) RequestWatchProgress(ctx context.Context) error {
	if err := b.client.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil {
		return toError(err, "", 0, "request watch progress")
	}
	return nil
}

// send delivers r unless ctx is done first.
func send(ctx context.Context, out chan<- storage.WatchResponse, r storage.WatchResponse) bool {
	select {
	case out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

func watchError(err error, key string, rev int64) error {
	if errors.Is(err, rpctypes.ErrCompacted) {
		return storage.NewError(storage.CodeExpired, key, rev)
	}
	return toError(err, key, rev, "watch")
}

func fromEvents(evs []*clientv3.Event) []storage.Event {
	out := make([]storage.Event, len(evs))
	for i, ev := range evs {
		e := storage.Event{Type: storage.EventPut, KV: fromKV(ev.Kv)}
		if ev.Type == mvccpb.DELETE {
			e.Type = storage.EventDelete
			e.KV.Value = nil
		}
		if ev.PrevKv != nil && !ev.IsCreate() {
			prev := fromKV(ev.PrevKv)
			e.Prev = &prev
		}
		out[i] = e
	}
	return out
}
