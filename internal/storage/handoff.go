package storage

import (
	"bytes"
	"sync"

	kruntime "k8s.io/apimachinery/pkg/runtime"
)

// maxHandoffs bounds the objects waiting for a watcher: a resource nobody
// watches would otherwise collect one per key written.
const maxHandoffs = 4096

// handoffs pass the object a write decoded for its caller on to the
// store's watch, so that the watch need not decode the same bytes again:
// every write is decoded for its response and again for the watch cache.
// A writer offers a copy of what the bytes decode to before writing them;
// the watcher that takes written objects (ListOptions.TakeWritten) takes
// it (and owns it) when its event carries exactly those bytes under that
// key. An offer nobody takes is replaced by the key's next write, or
// dropped once too many wait.
type handoffs struct {
	mu      sync.Mutex
	waiting map[string]handoff
}

type handoff struct {
	data []byte
	obj  kruntime.Object // without a resourceVersion
}

// offer leaves obj, the decoding of data, for the watcher of key's write.
func (h *handoffs) offer(key string, data []byte, obj kruntime.Object) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting == nil || len(h.waiting) >= maxHandoffs {
		h.waiting = map[string]handoff{}
	}
	h.waiting[key] = handoff{data: data, obj: obj}
}

// withdraw drops the offer of data at key: its write failed.
func (h *handoffs) withdraw(key string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.waiting[key]; ok && bytes.Equal(o.data, data) {
		delete(h.waiting, key)
	}
}

// take returns the object offered for key's write of data, or nil.
func (h *handoffs) take(key string, data []byte) kruntime.Object {
	h.mu.Lock()
	defer h.mu.Unlock()
	o, ok := h.waiting[key]
	if !ok || !bytes.Equal(o.data, data) {
		return nil
	}
	delete(h.waiting, key)
	return o.obj
}
