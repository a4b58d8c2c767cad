package storage

import (
	"context"
	"time"
)

// KeyValue is the state of one key at one revision.
type KeyValue struct {
	Key            string
	Value          []byte
	CreateRevision int64
	ModRevision    int64
}

// EventType tells a put from a delete.
type EventType int

const (
	// EventPut is a create or an update.
	EventPut EventType = iota
	// EventDelete is a delete, explicit or by TTL.
	EventDelete
)

// Event is one committed change to one key.
type Event struct {
	Type EventType
	// KV is the new state. For a delete, Value is nil and ModRevision is the
	// revision of the delete.
	KV KeyValue
	// Prev is the state before the change; nil when the change created the key.
	Prev *KeyValue
}

// WatchResponse is a batch of events in revision order, or a terminal error
// after which the channel is closed.
type WatchResponse struct {
	Events []Event
	// Revision, when set, is the revision up to which every change has been
	// delivered, including changes to other keys that were skipped: a
	// response with no events is a progress notification.
	Revision int64
	Err      error
}

// Backend is a revisioned, durable key-value store: the part of storage a
// storage engine (bolt, etcd) provides. Errors are *Error values.
//
// Byte slices passed in are not retained after the call returns; KeyValues
// passed to a Range callback are valid only during that callback.
type Backend interface {
	// Get returns the current state of key (nil if absent) and the revision
	// the read observed.
	Get(ctx context.Context, key string) (*KeyValue, int64, error)
	// Range calls fn, in key order, for each key that starts with prefix and
	// is >= start (start "" means from the prefix), as of revision rev (0:
	// the current revision), until fn returns false. It returns the revision
	// read. A rev below the compacted revision fails with an expired error; a
	// rev above the current one with a too-large-revision error. fn runs
	// inside a read transaction: it must be quick and must not call back
	// into the Backend.
	Range(ctx context.Context, prefix, start string, rev int64, fn func(KeyValue) bool) (int64, error)
	// Count returns the number of keys that start with prefix.
	Count(ctx context.Context, prefix string) (int64, error)
	// Create writes key if it does not exist and returns the new revision.
	// A ttl above zero deletes the key that long after its last write.
	Create(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, error)
	// Update writes key if its ModRevision equals expectedRevision and
	// returns the new revision.
	Update(ctx context.Context, key string, value []byte, expectedRevision int64, ttl time.Duration) (int64, error)
	// Delete removes key, if expectedRevision is 0 or equals its
	// ModRevision, and returns its last state and the revision of the delete.
	Delete(ctx context.Context, key string, expectedRevision int64) (*KeyValue, int64, error)
	// Watch streams every change with a revision above rev (0: from now) to
	// key, or to every key under key when prefix is true. The channel closes
	// when ctx is done or after a response carrying Err.
	Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan WatchResponse
	// Revision returns the current revision.
	Revision(ctx context.Context) (int64, error)
	// Close releases the backend; it waits for its goroutines to exit.
	Close() error
}

// WatchProgressRequester is a Backend whose watches tell, when asked, how
// far they have come even without events: after RequestWatchProgress each
// of its watches sends a response carrying the newest revision once it has
// reached it. Unasked, a watch may report such progress only now and then.
type WatchProgressRequester interface {
	RequestWatchProgress(ctx context.Context) error
}
