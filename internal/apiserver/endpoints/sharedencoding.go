package endpoints

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// sharedEncodingSlots is how many recent encodings sharedEncodings keeps:
// enough for every watcher of an event to find it while the fan-out of
// that event runs, few enough to cost under a megabyte of pods.
const sharedEncodingSlots = 256

// sharedEncodings keeps the encodings of the objects recently sent to
// watchers, so that an event's object is encoded once per format and
// version rather than once per watcher: the watch cache hands every
// watcher the same object, and encoding it for each was a fifth of the CPU
// of a fan-out to a thousand watchers. Objects from the watch cache are
// never changed, and a key holds its object, so an address is never reused
// for another object while its entry lives.
type sharedEncodings struct {
	mu      sync.Mutex
	entries map[encodingKey][]byte
	ring    [sharedEncodingSlots]encodingKey
	next    int
}

type encodingKey struct {
	obj       runtime.Object
	mediaType string
	gv        schema.GroupVersion
}

// get returns the encoding of key's object, encoding and keeping it with
// encode on a miss. The bytes are shared: callers only read them.
func (s *sharedEncodings) get(key encodingKey, encode func() ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	data, ok := s.entries[key]
	s.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := encode()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[key]; ok {
		return data, nil // another watcher encoded it meanwhile
	}
	if s.entries == nil {
		s.entries = make(map[encodingKey][]byte, sharedEncodingSlots)
	}
	if old := s.ring[s.next]; old.obj != nil {
		delete(s.entries, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % sharedEncodingSlots
	s.entries[key] = data
	return data, nil
}
