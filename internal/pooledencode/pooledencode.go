// Package pooledencode serializes API objects with working memory reused
// across calls. runtime.Encode allocates the serialization, then grows a
// buffer it copies it into: about three times an object's size of garbage
// on every write, response and watch event, which the garbage collector
// then pays for.
package pooledencode

import (
	"bytes"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
)

// scratch is the reusable memory of one encode.
type scratch struct {
	alloc runtime.Allocator
	buf   bytes.Buffer
}

var pool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooled is the largest working memory kept for reuse: big lists are
// rare, and holding their buffers would cost more than it saves.
const maxPooled = 1 << 20

// Encode serializes obj with enc and passes the bytes to use. They are
// valid only until use returns; use's error is returned.
func Encode(enc runtime.Encoder, obj runtime.Object, use func(data []byte) error) error {
	s := pool.Get().(*scratch)
	defer func() {
		if s.buf.Cap() <= maxPooled {
			pool.Put(s)
		}
	}()
	s.buf.Reset()
	var err error
	if e, ok := enc.(runtime.EncoderWithAllocator); ok {
		err = e.EncodeWithAllocator(obj, &s.buf, &s.alloc)
	} else {
		err = enc.Encode(obj, &s.buf)
	}
	if err != nil {
		return err
	}
	return use(s.buf.Bytes())
}

// EncodeToNew serializes obj into a new slice of exactly its length.
func EncodeToNew(enc runtime.Encoder, obj runtime.Object) ([]byte, error) {
	var out []byte
	err := Encode(enc, obj, func(data []byte) error {
		out = make([]byte, len(data))
		copy(out, data)
		return nil
	})
	return out, err
}
