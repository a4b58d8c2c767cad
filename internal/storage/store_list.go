package storage

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
)

// GetList implements Interface.
func (s *Store) GetList(ctx context.Context, key string, opts ListOptions, listObj kruntime.Object) error {
	pred := opts.Predicate
	prefix := key
	if opts.Recursive {
		prefix = recursivePrefix(key)
	}
	readRev, minRev, start, err := s.listRevision(prefix, opts)
	if err != nil {
		return err
	}
	if start == "" {
		start = prefix
	}

	itemsPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return Errorf(CodeInvalidObject, key, "list object %T: %v", listObj, err)
	}
	items := reflect.ValueOf(itemsPtr).Elem()
	if items.IsNil() { // clients get "items": [], never null
		items.Set(reflect.MakeSlice(items.Type(), 0, 0))
	}
	items.SetLen(0)
	newItem := itemMaker(items.Type().Elem())

	c := &listCollector{store: s, pred: pred, items: items, newItem: newItem}
	rev, err := s.backend.Range(ctx, prefix, start, readRev, func(kv KeyValue) bool {
		if !opts.Recursive && kv.Key != key {
			return false
		}
		return c.add(kv)
	})
	if IsExpired(err) && pred.Continue != "" {
		return s.expiredContinue(prefix, start)
	}
	if err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	if c.err != nil {
		return c.err
	}
	if err := s.checkMinimumRevision(key, minRev, rev); err != nil {
		return err
	}
	var token string
	var remaining *int64
	if c.hasMore {
		if token, err = encodeContinue(c.lastKey+"\x00", prefix, rev); err != nil {
			return err
		}
		if pred.Empty() {
			n := c.remaining
			remaining = &n
		}
	}
	return s.versioner.UpdateList(listObj, uint64(rev), token, remaining)
}

// listRevision works out, from resourceVersion, resourceVersionMatch and
// continue, the exact revision to read (0: current), the minimum revision
// the result must reflect, and the key to start from.
func (s *Store) listRevision(prefix string, opts ListOptions) (readRev int64, minRV string, start string, err error) {
	if opts.Predicate.Continue != "" {
		if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return 0, "", "", Errorf(CodeInvalidRequest, prefix,
				"specifying resource version is not allowed when using continue")
		}
		start, readRev, err = decodeContinue(opts.Predicate.Continue, prefix)
		return readRev, "", start, err
	}
	if opts.ResourceVersion == "" {
		return 0, "", "", nil
	}
	rv, err := s.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return 0, "", "", err
	}
	switch opts.ResourceVersionMatch {
	case metav1.ResourceVersionMatchExact:
		if rv == 0 {
			return 0, "", "", Errorf(CodeInvalidRequest, prefix, "resourceVersionMatch=Exact needs a non-zero resourceVersion")
		}
		return int64(rv), "", "", nil
	case metav1.ResourceVersionMatchNotOlderThan:
		return 0, opts.ResourceVersion, "", nil
	case "":
		// A paginated list at a given resourceVersion reads exactly there.
		if rv > 0 && opts.Predicate.Limit > 0 {
			return int64(rv), "", "", nil
		}
		return 0, opts.ResourceVersion, "", nil
	default:
		return 0, "", "", Errorf(CodeInvalidRequest, prefix, "unknown resourceVersionMatch %q", opts.ResourceVersionMatch)
	}
}

// itemMaker returns a function creating an empty list item of type t,
// which is either a struct implementing runtime.Object through its pointer
// or a pointer to one.
func itemMaker(t reflect.Type) func() (kruntime.Object, reflect.Value) {
	if t.Kind() == reflect.Pointer {
		return func() (kruntime.Object, reflect.Value) {
			p := reflect.New(t.Elem())
			return p.Interface().(kruntime.Object), p
		}
	}
	return func() (kruntime.Object, reflect.Value) {
		p := reflect.New(t)
		return p.Interface().(kruntime.Object), p.Elem()
	}
}

// listCollector gathers list items. Values are copied out of the backend
// and decoded in parallel chunks, since decoding dominates the cost of
// large lists.
type listCollector struct {
	store   *Store
	pred    Predicate
	items   reflect.Value
	newItem func() (kruntime.Object, reflect.Value)

	pending   []KeyValue
	full      bool
	hasMore   bool
	lastKey   string
	remaining int64
	err       error
}

const maxDecodeChunk = 1024

// add takes one key in order; it returns false to stop the range.
func (c *listCollector) add(kv KeyValue) bool {
	if c.full {
		c.hasMore = true
		if !c.pred.Empty() {
			return false
		}
		c.remaining++ // only counted, never decoded
		return true
	}
	kv.Value = bytes.Clone(kv.Value)
	c.pending = append(c.pending, kv)
	if len(c.pending) >= c.chunkSize() {
		if err := c.flush(); err != nil {
			c.err = err
			return false
		}
	}
	return true
}

func (c *listCollector) chunkSize() int {
	if c.pred.Limit <= 0 {
		return maxDecodeChunk
	}
	need := int(c.pred.Limit) - c.items.Len()
	if !c.pred.Empty() {
		need = max(need, 64) // most items may not match
	}
	return max(1, min(need, maxDecodeChunk))
}

// flush decodes the pending values and appends the matching ones.
func (c *listCollector) flush() error {
	if len(c.pending) == 0 {
		return nil
	}
	objs := make([]kruntime.Object, len(c.pending))
	vals := make([]reflect.Value, len(c.pending))
	errs := make([]error, len(c.pending))
	workers := min(runtime.GOMAXPROCS(0), (len(c.pending)+63)/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(c.pending); i += workers {
				kv := c.pending[i]
				objs[i], vals[i] = c.newItem()
				errs[i] = c.store.decode(kv.Key, kv.Value, objs[i], kv.ModRevision)
			}
		})
	}
	wg.Wait()
	for i, kv := range c.pending {
		if c.full {
			c.hasMore = true
			c.remaining++
			continue
		}
		if errs[i] != nil {
			return errs[i]
		}
		c.lastKey = kv.Key
		ok, err := c.pred.Matches(objs[i])
		if err != nil {
			return Errorf(CodeInvalidObject, kv.Key, "match %s: %v", kv.Key, err)
		}
		if ok {
			c.items.Set(reflect.Append(c.items, vals[i]))
			if c.pred.Limit > 0 && int64(c.items.Len()) >= c.pred.Limit {
				c.full = true
			}
		}
	}
	c.pending = c.pending[:0]
	return nil
}

// String is for debugging.
func (c *listCollector) String() string {
	return fmt.Sprintf("items=%d full=%v more=%v last=%q", c.items.Len(), c.full, c.hasMore, c.lastKey)
}

// expiredContinue is the error for a continue token whose revision was
// compacted: it carries a token that resumes from the same key at the
// newest revision, as Kubernetes offers.
func (s *Store) expiredContinue(prefix, start string) error {
	token, err := encodeContinue(start, prefix, latestRevision)
	if err != nil {
		return err
	}
	return &Error{
		Code: CodeExpired, Key: prefix, Continue: token,
		Msg: "continue token expired: the revision it was issued at has been compacted; " +
			"start a new list, or resume with the continue token of this response, which reads the " +
			"current revision (objects changed since the first page may then look inconsistent)",
	}
}
