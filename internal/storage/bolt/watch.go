package bolt

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tugcluster/tug/internal/storage"
)

// watchBatch caps the events one fetch hands a watcher.
const watchBatch = 1000

// ProgressInterval is how often at most a watch reports revisions without
// events for it unasked. Every write is such a revision for every other
// resource's watch; reporting each (thousands a second) cost the API
// server a few percent of its CPU. Whoever needs a revision sooner asks
// (RequestWatchProgress).
const ProgressInterval = 250 * time.Millisecond

// Watch implements storage.Backend. Each watcher reads the shared event
// log at its own pace from its own goroutine: writers never wait for it and
// it holds no buffer of its own. One that falls behind the in-memory events
// reads history from the file, and is cut off with an expired error once
// the history it needs has been compacted.
//
// A write wakes only the watchers of its keys (see watchReg): with a
// watcher per resource, waking them all for every write cost more than
// the writes. The others learn of revisions without events for them every
// ProgressInterval, or when asked (RequestWatchProgress).
func (b *Backend) Watch(ctx context.Context, key string, prefix bool, rev int64) <-chan storage.WatchResponse {
	ch := make(chan storage.WatchResponse)
	match := func(k string) bool { return k == key }
	if prefix {
		match = func(k string) bool { return strings.HasPrefix(k, key) }
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		closedCh := make(chan storage.WatchResponse, 1)
		closedCh <- storage.WatchResponse{Err: errClosed}
		close(closedCh)
		return closedCh
	}
	if rev == 0 {
		rev = b.rev
	}
	// Dirty at first: it may have history to read.
	reg := &watchReg{match: match, wake: make(chan struct{}, 1), dirty: true, clean: rev}
	b.regs[reg] = struct{}{}
	answered := b.asked // progress requests before the watch are not its
	b.watchers.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.watchers.Done()
		defer close(ch)
		defer func() {
			b.mu.Lock()
			delete(b.regs, reg)
			b.mu.Unlock()
		}()
		send := func(r storage.WatchResponse) bool {
			select {
			case ch <- r:
				return true
			case <-ctx.Done():
			case <-b.stopped.Done():
			}
			return false
		}
		tick := time.NewTicker(ProgressInterval)
		defer tick.Stop()
		pos, told := rev, rev // the revision reached, and the last one sent
		for {
			events, asked, caughtUp, err := b.eventsFor(ctx, reg, &pos, answered, told, tick.C)
			if err != nil {
				if ctx.Err() == nil && b.stopped.Err() == nil {
					send(storage.WatchResponse{Err: err})
				}
				return
			}
			var out []storage.Event
			for _, e := range events {
				if match(e.key) {
					out = append(out, e.storageEvent())
				}
			}
			if len(out) == 0 && len(events) > 0 {
				continue // history without events for this watch
			}
			// Events, or progress: asked for, or due.
			if !send(storage.WatchResponse{Events: out, Revision: pos}) {
				return
			}
			told = pos
			if caughtUp {
				answered = asked
			}
		}
	}()
	return ch
}

// watchReg is what a write knows of a watch: whether any of its keys has
// changed since the watch last looked (dirty), and up to which revision
// none has (clean). Guarded by the Backend's mu: written by writes under
// the write lock, and by its own watch holding the read lock.
type watchReg struct {
	match func(key string) bool
	wake  chan struct{} // signaled when it becomes dirty, or progress is asked for
	dirty bool
	clean int64
}

// routeLocked tells the watches of events' keys; the others' clean
// revision moves on. b.mu is held for writing.
func (b *Backend) routeLocked(events []*event) {
	last := events[len(events)-1].rev
	for reg := range b.regs {
		if reg.dirty {
			continue
		}
		first := slices.IndexFunc(events, func(e *event) bool { return reg.match(e.key) })
		if first < 0 {
			reg.clean = last
			continue
		}
		reg.clean = events[first].rev - 1
		reg.dirty = true
		reg.signal()
	}
}

// signal wakes the watch, unless a wake-up is pending already.
func (r *watchReg) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// RequestWatchProgress implements storage.WatchProgressRequester: every
// watch sends a response at the newest revision once it has reached it.
func (b *Backend) RequestWatchProgress(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked++
	for reg := range b.regs {
		reg.signal()
	}
	return nil
}

// eventsFor returns the next events after *pos a watch must look at
// (nil: progress to report at *pos), blocking until there are some, a
// progress request is not answered (the count of requests answered),
// or, on a tick, the watch has moved on since it last told (told). It
// returns the count of requests and whether *pos is the newest revision.
func (b *Backend) eventsFor(ctx context.Context, reg *watchReg, pos *int64, answered, told int64,
	tick <-chan time.Time) (events []*event, asked int64, caughtUp bool, err error) {
	ticked := false
	for {
		b.mu.RLock()
		asked = b.asked
		*pos = max(*pos, reg.clean) // nothing for it up to there
		if *pos < b.compacted {
			b.mu.RUnlock()
			return nil, asked, false, storage.NewError(storage.CodeExpired, "", *pos)
		}
		if reg.dirty && *pos < b.rev {
			if n := len(b.mem); n > 0 && *pos+1 >= b.mem[0].rev {
				from := *pos + 1 - b.mem[0].rev
				events := b.mem[from:min(int64(n), from+watchBatch)]
				*pos = events[len(events)-1].rev
				caughtUp = *pos == b.rev
				if caughtUp {
					reg.dirty, reg.clean = false, *pos // all it must see is in hand
				}
				b.mu.RUnlock()
				return events, asked, caughtUp, nil
			}
			b.mu.RUnlock()
			events, err := b.historyAfter(*pos)
			if err != nil {
				return nil, asked, false, err
			}
			if len(events) > 0 {
				*pos = events[len(events)-1].rev
				return events, asked, false, nil
			}
			continue // the file and memory moved on meanwhile; look again
		}
		if reg.dirty {
			reg.dirty, reg.clean = false, *pos // woken for what it has seen
		}
		caughtUp = *pos == b.rev
		if (asked != answered && caughtUp) || (ticked && *pos > told) {
			b.mu.RUnlock()
			return nil, asked, caughtUp, nil
		}
		b.mu.RUnlock()
		ticked = false
		select {
		case <-reg.wake:
		case <-tick:
			ticked = true
		case <-ctx.Done():
			return nil, asked, false, ctx.Err()
		case <-b.stopped.Done():
			return nil, asked, false, errClosed
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
