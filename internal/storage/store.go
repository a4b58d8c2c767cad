package storage

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"time"

	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/pooledencode"
)

// Config describes the objects of one Store.
type Config struct {
	// Codec encodes objects for the backend and decodes them back.
	Codec kruntime.Codec
	// NewFunc returns an empty object of the stored type; watches decode
	// into it.
	NewFunc func() kruntime.Object
	// Versioner defaults to APIObjectVersioner.
	Versioner Versioner
}

// Store implements Interface over any Backend.
type Store struct {
	backend   Backend
	codec     kruntime.Codec
	newFunc   func() kruntime.Object
	versioner Versioner
	objType   reflect.Type // of newFunc's objects; nil without newFunc
	handoffs  handoffs
}

var _ Interface = (*Store)(nil)

// NewStore returns a Store that keeps objects in backend.
func NewStore(backend Backend, cfg Config) *Store {
	v := cfg.Versioner
	if v == nil {
		v = APIObjectVersioner{}
	}
	s := &Store{backend: backend, codec: cfg.Codec, newFunc: cfg.NewFunc, versioner: v}
	if cfg.NewFunc != nil {
		s.objType = reflect.TypeOf(cfg.NewFunc())
	}
	return s
}

// Versioner implements Interface.
func (s *Store) Versioner() Versioner { return s.versioner }

// Create implements Interface.
func (s *Store) Create(ctx context.Context, key string, obj, out kruntime.Object, ttl uint64) error {
	if rv, err := s.versioner.ObjectResourceVersion(obj); err != nil || rv != 0 {
		return Errorf(CodeInvalidRequest, key, "resourceVersion should not be set on objects to be created")
	}
	if err := s.versioner.PrepareObjectForStorage(obj); err != nil {
		return Errorf(CodeInvalidObject, key, "prepare %s for storage: %v", key, err)
	}
	data, err := pooledencode.EncodeToNew(s.codec, obj)
	if err != nil {
		return Errorf(CodeInvalidObject, key, "encode %s: %v", key, err)
	}
	if out == nil {
		_, err := s.backend.Create(ctx, key, data, time.Duration(ttl)*time.Second)
		return err
	}
	if err := s.decodeWritten(key, data, out); err != nil {
		return err
	}
	rev, err := s.backend.Create(ctx, key, data, time.Duration(ttl)*time.Second)
	return s.written(key, data, out, rev, err)
}

// Get implements Interface.
func (s *Store) Get(ctx context.Context, key string, opts GetOptions, out kruntime.Object) error {
	kv, rev, err := s.backend.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := s.checkMinimumRevision(key, opts.ResourceVersion, rev); err != nil {
		return err
	}
	if kv == nil {
		if opts.IgnoreNotFound {
			return kruntime.SetZeroValue(out)
		}
		return NewError(CodeKeyNotFound, key, rev)
	}
	return s.decode(key, kv.Value, out, kv.ModRevision)
}

// checkMinimumRevision fails when a "not older than" resourceVersion is
// ahead of what the store has.
func (s *Store) checkMinimumRevision(key, resourceVersion string, actual int64) error {
	if resourceVersion == "" {
		return nil
	}
	minimum, err := s.versioner.ParseResourceVersion(resourceVersion)
	if err != nil {
		return err
	}
	if minimum > uint64(actual) {
		return NewError(CodeTooLargeRevision, key, int64(minimum))
	}
	return nil
}

// Count implements Interface.
func (s *Store) Count(ctx context.Context, key string) (int64, error) {
	return s.backend.Count(ctx, recursivePrefix(key))
}

func recursivePrefix(key string) string {
	if strings.HasSuffix(key, "/") {
		return key
	}
	return key + "/"
}

// GuaranteedUpdate implements Interface.
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, dest kruntime.Object, ignoreNotFound bool,
	preconditions *Preconditions, tryUpdate UpdateFunc, cachedExistingObject kruntime.Object) error {
	st, err := s.currentState(ctx, key, dest, cachedExistingObject)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.absent && !ignoreNotFound {
			return NewError(CodeKeyNotFound, key, 0)
		}
		if err := preconditions.Check(key, st.obj); err != nil {
			return err
		}
		ret, ttl, err := tryUpdate(st.obj, ResponseMeta{ResourceVersion: uint64(st.rev)})
		if err != nil {
			return err
		}
		if err := s.versioner.PrepareObjectForStorage(ret); err != nil {
			return Errorf(CodeInvalidObject, key, "prepare %s for storage: %v", key, err)
		}
		data, err := pooledencode.EncodeToNew(s.codec, ret)
		if err != nil {
			return Errorf(CodeInvalidObject, key, "encode %s: %v", key, err)
		}
		if !st.absent && bytes.Equal(data, st.data) {
			// Nothing changed: write nothing, answer with the current state.
			return s.decode(key, st.data, dest, st.rev)
		}
		var ttlDuration time.Duration
		if ttl != nil {
			ttlDuration = time.Duration(*ttl) * time.Second
		}
		if err := s.decodeWritten(key, data, dest); err != nil {
			return err
		}
		var rev int64
		if st.absent {
			rev, err = s.backend.Create(ctx, key, data, ttlDuration)
		} else {
			rev, err = s.backend.Update(ctx, key, data, st.rev, ttlDuration)
		}
		if IsConflict(err) || IsExists(err) || IsNotFound(err) {
			// Written meanwhile: start again from what is stored now.
			s.handoffs.withdraw(key, data)
			if st, err = s.currentState(ctx, key, dest, nil); err != nil {
				return err
			}
			continue
		}
		return s.written(key, data, dest, rev, err)
	}
}

// decodeWritten decodes data, about to be written at key, into out, and
// offers a copy to the store's watch (see handoffs) if out is of the type
// the watch decodes to.
func (s *Store) decodeWritten(key string, data []byte, out kruntime.Object) error {
	if err := s.decode(key, data, out, 0); err != nil {
		return err
	}
	if s.objType != nil && reflect.TypeOf(out) == s.objType {
		s.handoffs.offer(key, data, out.DeepCopyObject())
	}
	return nil
}

// written finishes a write of data at key that decodeWritten decoded into
// out: it stamps out with the write's revision, or withdraws the offer if
// the write failed.
func (s *Store) written(key string, data []byte, out kruntime.Object, rev int64, err error) error {
	if err != nil {
		s.handoffs.withdraw(key, data)
		return err
	}
	return s.stamp(key, out, rev)
}

// Delete implements Interface.
func (s *Store) Delete(ctx context.Context, key string, out kruntime.Object, preconditions *Preconditions,
	validateDeletion ValidateObjectFunc, cachedExistingObject kruntime.Object) error {
	st, err := s.currentState(ctx, key, out, cachedExistingObject)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.absent {
			return NewError(CodeKeyNotFound, key, 0)
		}
		if err := preconditions.Check(key, st.obj); err != nil {
			return err
		}
		if validateDeletion != nil {
			if err := validateDeletion(ctx, st.obj); err != nil {
				return err
			}
		}
		prev, rev, err := s.backend.Delete(ctx, key, st.rev)
		if IsConflict(err) {
			if st, err = s.currentState(ctx, key, out, nil); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		return s.decode(key, prev.Value, out, rev)
	}
}

// objectState is the stored state of one key as an update sees it.
type objectState struct {
	obj    kruntime.Object
	data   []byte
	rev    int64
	absent bool
}

// currentState reads key from the backend; like is an object of the
// stored type (its contents are ignored). cached, if not nil, is a recent
// decoded copy of the key's object: when it is of the stored revision, a
// copy of it stands in for decoding the stored bytes.
func (s *Store) currentState(ctx context.Context, key string, like, cached kruntime.Object) (*objectState, error) {
	kv, _, err := s.backend.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return &objectState{obj: s.newObject(like), absent: true}, nil
	}
	if obj := s.copyIfAt(cached, like, kv.ModRevision); obj != nil {
		return &objectState{obj: obj, data: kv.Value, rev: kv.ModRevision}, nil
	}
	obj := s.newObject(like)
	if err := s.decode(key, kv.Value, obj, kv.ModRevision); err != nil {
		return nil, err
	}
	return &objectState{obj: obj, data: kv.Value, rev: kv.ModRevision}, nil
}

// copyIfAt returns a deep copy of cached if it is an object of like's type
// at revision rev, else nil.
func (s *Store) copyIfAt(cached, like kruntime.Object, rev int64) kruntime.Object {
	if cached == nil || reflect.TypeOf(cached) != reflect.TypeOf(like) {
		return nil
	}
	if r, err := s.versioner.ObjectResourceVersion(cached); err != nil || int64(r) != rev {
		return nil
	}
	return cached.DeepCopyObject()
}

func (s *Store) newObject(like kruntime.Object) kruntime.Object {
	if s.newFunc != nil {
		return s.newFunc()
	}
	return reflect.New(reflect.TypeOf(like).Elem()).Interface().(kruntime.Object)
}

// decode decodes data into out, which it first empties (JSON decoding
// would merge into what is there), and stamps it with rev.
func (s *Store) decode(key string, data []byte, out kruntime.Object, rev int64) error {
	if r, ok := out.(interface{ Reset() }); ok {
		r.Reset() // generated types zero themselves without allocating a zero copy
	} else if err := kruntime.SetZeroValue(out); err != nil {
		return Errorf(CodeInvalidObject, key, "reset %T: %v", out, err)
	}
	if err := kruntime.DecodeInto(s.codec, data, out); err != nil {
		return Errorf(CodeInvalidObject, key, "decode %s: %v", key, err)
	}
	return s.stamp(key, out, rev)
}

// stamp sets obj's resourceVersion to rev.
func (s *Store) stamp(key string, obj kruntime.Object, rev int64) error {
	if err := s.versioner.UpdateObject(obj, uint64(rev)); err != nil {
		return Errorf(CodeInvalidObject, key, "set resourceVersion of %s: %v", key, err)
	}
	return nil
}
