package etcd

import (
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/tugcluster/tug/internal/storage"
)

// toError turns an error from the etcd client into a *storage.Error; op
// names the failed operation.
func toError(err error, key string, rev int64, op string) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return storage.NewError(storage.CodeExpired, key, rev)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return storage.NewError(storage.CodeTooLargeRevision, key, rev)
	default:
		return storage.Errorf(storage.CodeUnavailable, key, "etcd %s %s: %v", op, key, err)
	}
}
