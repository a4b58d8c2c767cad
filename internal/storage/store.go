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
}

var _ Interface = (*Store)(nil)

// NewStore returns a Store that keeps objects in backend.
func NewStore(backend Backend, cfg Config) *Store {
	v := cfg.Versioner
	if v == nil {
		v = APIObjectVersioner{}
	}
	return &Store{backend: backend, codec: cfg.Codec, newFunc: cfg.NewFunc, versioner: v}
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
	rev, err := s.backend.Create(ctx, key, data, time.Duration(ttl)*time.Second)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return s.decode(key, data, out, rev)
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
	st, stale, err := s.initialState(ctx, key, dest, cachedExistingObject)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// refresh replaces a possibly stale cached state with the stored one.
		refresh := func() error {
			st, err = s.currentState(ctx, key, dest)
			stale = false
			return err
		}
		if st.absent && !ignoreNotFound {
			if stale {
				if err := refresh(); err != nil {
					return err
				}
				continue
			}
			return NewError(CodeKeyNotFound, key, 0)
		}
		if err := preconditions.Check(key, st.obj); err != nil {
			if stale {
				if err := refresh(); err != nil {
					return err
				}
				continue
			}
			return err
		}
		ret, ttl, err := tryUpdate(st.obj, ResponseMeta{ResourceVersion: uint64(st.rev)})
		if err != nil {
			if stale {
				if err := refresh(); err != nil {
					return err
				}
				continue
			}
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
			if stale {
				if err := refresh(); err != nil {
					return err
				}
				continue
			}
			// Nothing changed: write nothing, answer with the current state.
			return s.decode(key, st.data, dest, st.rev)
		}
		var ttlDuration time.Duration
		if ttl != nil {
			ttlDuration = time.Duration(*ttl) * time.Second
		}
		var rev int64
		if st.absent {
			rev, err = s.backend.Create(ctx, key, data, ttlDuration)
		} else {
			rev, err = s.backend.Update(ctx, key, data, st.rev, ttlDuration)
		}
		if IsConflict(err) || IsExists(err) || IsNotFound(err) {
			if err := refresh(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		return s.decode(key, data, dest, rev)
	}
}

// Delete implements Interface.
func (s *Store) Delete(ctx context.Context, key string, out kruntime.Object, preconditions *Preconditions,
	validateDeletion ValidateObjectFunc, cachedExistingObject kruntime.Object) error {
	st, stale, err := s.initialState(ctx, key, out, cachedExistingObject)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		checkErr := func() error {
			if st.absent {
				return NewError(CodeKeyNotFound, key, 0)
			}
			if err := preconditions.Check(key, st.obj); err != nil {
				return err
			}
			if validateDeletion != nil {
				return validateDeletion(ctx, st.obj)
			}
			return nil
		}()
		if checkErr != nil {
			if !stale {
				return checkErr
			}
			if st, err = s.currentState(ctx, key, out); err != nil {
				return err
			}
			stale = false
			continue
		}
		prev, rev, err := s.backend.Delete(ctx, key, st.rev)
		if IsConflict(err) {
			if st, err = s.currentState(ctx, key, out); err != nil {
				return err
			}
			stale = false
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

// initialState is where an update or delete starts: the cached object if
// the caller has one (stale until checked), else the stored state.
func (s *Store) initialState(ctx context.Context, key string, like, cached kruntime.Object) (*objectState, bool, error) {
	if cached != nil {
		st, err := s.stateFromObject(key, cached)
		return st, true, err
	}
	st, err := s.currentState(ctx, key, like)
	return st, false, err
}

// currentState reads key from the backend; like is an object of the
// stored type (its contents are ignored).
func (s *Store) currentState(ctx context.Context, key string, like kruntime.Object) (*objectState, error) {
	kv, _, err := s.backend.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	obj := s.newObject(like)
	if kv == nil {
		return &objectState{obj: obj, absent: true}, nil
	}
	if err := s.decode(key, kv.Value, obj, kv.ModRevision); err != nil {
		return nil, err
	}
	return &objectState{obj: obj, data: kv.Value, rev: kv.ModRevision}, nil
}

// stateFromObject builds the state an update starts from out of a cached
// object, which it copies.
func (s *Store) stateFromObject(key string, cached kruntime.Object) (*objectState, error) {
	obj := cached.DeepCopyObject()
	rev, err := s.versioner.ObjectResourceVersion(obj)
	if err != nil {
		return nil, err
	}
	stored := obj.DeepCopyObject()
	if err := s.versioner.PrepareObjectForStorage(stored); err != nil {
		return nil, err
	}
	data, err := pooledencode.EncodeToNew(s.codec, stored)
	if err != nil {
		return nil, Errorf(CodeInvalidObject, key, "encode %s: %v", key, err)
	}
	return &objectState{obj: obj, data: data, rev: int64(rev)}, nil
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
	if err := s.versioner.UpdateObject(out, uint64(rev)); err != nil {
		return Errorf(CodeInvalidObject, key, "set resourceVersion of %s: %v", key, err)
	}
	return nil
}
