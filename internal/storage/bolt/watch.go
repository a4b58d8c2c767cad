package bolt

import (
	"bytes"
	"context"
	"strings"

	"github.com/tugcluster/tug/internal/storage"
)

// watchBatch caps the events one fetch hands a watcher.
const watchBatch = 1000

// Watch implements storage.Backend. Each watcher reads the shared event
// log at its own pace from its own goroutine: writers never wait for it and
// it holds no buffer of its own. One that falls behind the in-memory events
// reads history from the file, and is cut off with an expired error once
// the history it needs has been compacted.
func (b *Backend) Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan storage.WatchResponse {
	ch := make(chan storage.WatchResponse)
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		closedCh := make(chan storage.WatchResponse, 1)
		closedCh <- storage.WatchResponse{Err: errClosed}
		close(closedCh)
		return closedCh
	}
	if rev == 0 {
		rev = b.rev
	}
	b.watchers.Add(1)
	b.mu.RUnlock()
	match := func(k string) bool { return k == key }
	if prefix {
		match = func(k string) bool { return strings.HasPrefix(k, key) }
	}
	go func() {
		defer b.watchers.Done()
		defer close(ch)
		pos := rev
		for {
			events, err := b.eventsAfter(ctx, pos)
			if err != nil {
				if ctx.Err() == nil && b.stopped.Err() == nil {
					select {
					case ch <- storage.WatchResponse{Err: err}:
					case <-ctx.Done():
					case <-b.stopped.Done():
					}
				}
				return
			}
			var out []storage.Event
			for _, e := range events {
				if match(e.key) {
					out = append(out, e.storageEvent())
				}
			}
			pos = events[len(events)-1].rev
			select {
			case ch <- storage.WatchResponse{Events: out, Revision: pos}:
			case <-ctx.Done():
				return
			case <-b.stopped.Done():
				return
			}
		}
	}()
	return ch
}

// eventsAfter returns the next events after revision pos, blocking until
// there is at least one.
func (b *Backend) eventsAfter(ctx context.Context, pos int64) ([]*event, error) {
	for {
		b.mu.RLock()
		if pos < b.compacted {
			b.mu.RUnlock()
			return nil, storage.NewError(storage.CodeExpired, "", pos)
		}
		if pos < b.rev {
			if n := len(b.mem); n > 0 && pos+1 >= b.mem[0].rev {
				from := pos + 1 - b.mem[0].rev
				events := b.mem[from:min(int64(n), from+watchBatch)]
				b.mu.RUnlock()
				return events, nil
			}
			b.mu.RUnlock()
			events, err := b.historyAfter(pos)
			if err != nil || len(events) > 0 {
				return events, err
			}
			continue // the file and memory moved on meanwhile; look again
		}
		notify := b.notify
		b.mu.RUnlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-b.stopped.Done():
			return nil, errClosed
		}
	}
}

// historyAfter reads the events after pos from the file's history.
func (b *Backend) historyAfter(pos int64) ([]*event, error) {
	s, err := b.snapshot()
	if err != nil {
		return nil, err
	}
	defer s.close()
	if pos < s.compacted {
		return nil, storage.NewError(storage.CodeExpired, "", pos)
	}
	var events []*event
	c := s.tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(revKey(pos + 1)); k != nil && len(events) < watchBatch; k, v = c.Next() {
		e, _, err := decodeEvent(bytes.Clone(v))
		if err != nil {
			return nil, storage.Errorf(storage.CodeInvalidObject, "", "history at %x: %v", k, err)
		}
		if e.rev != pos+int64(len(events))+1 {
			return nil, storage.NewError(storage.CodeExpired, "", pos)
		}
		events = append(events, e)
	}
	return events, nil
}
