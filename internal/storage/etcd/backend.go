package etcd

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/internal/storage"
)

// Options configures a Backend. Zero fields take the defaults below.
type Options struct {
	// PageSize is how many keys one range request returns; Range pages
	// through larger results at one pinned revision. Default 1000.
	PageSize int64
	// LeaseReuse is how long a granted lease is handed to further writes
	// with a TTL no longer than the one it was granted for. Such keys live
	// up to LeaseReuse longer than asked. Default 1m.
	LeaseReuse time.Duration
}

func (o Options) withDefaults() Options {
	if o.PageSize == 0 {
		o.PageSize = 1000
	}
	if o.LeaseReuse == 0 {
		o.LeaseReuse = time.Minute
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.PageSize < 0 || o.LeaseReuse < 0 {
		return errors.New("etcd: options must not be negative")
	}
	return nil
}

// Backend implements storage.Backend on etcd. Its methods are safe for
// concurrent use.
type Backend struct {
	client *clientv3.Client
	opts   Options
	leases *leaseManager

	// ctx is canceled by Close to end watches; watches counts their
	// goroutines.
	ctx     context.Context
	cancel  context.CancelFunc
	watches sync.WaitGroup
}

var _ storage.Backend = (*Backend)(nil)

// New returns a Backend that stores keys in client's cluster. The client
// stays the caller's: Close does not close it.
func New(client *clientv3.Client, opts Options) (*Backend, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Backend{
		client: client,
		opts:   opts,
		leases: newLeaseManager(client, opts.LeaseReuse),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// Revision implements storage.Backend.
func (b *Backend) Revision(ctx context.Context) (int64, error) {
	resp, err := b.client.Get(ctx, revisionProbeKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, toError(err, revisionProbeKey, 0, "read revision")
	}
	return resp.Header.Revision, nil
}

// revisionProbeKey is read, count only, to learn the current revision.
const revisionProbeKey = "/"

// Compact drops the history before rev. Compacting to a revision that is
// already compacted is not an error.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	_, err := b.client.Compact(ctx, rev, clientv3.WithCompactPhysical())
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil
	}
	if err != nil {
		return toError(err, "", rev, "compact")
	}
	return nil
}

// Close ends every watch and waits for their goroutines to exit.
func (b *Backend) Close() error {
	b.cancel()
	b.watches.Wait()
	return nil
}
