package storagetest

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/storage"
)

// updateCall records what one call of an UpdateFunc was given.
type updateCall struct {
	RV   string // the input's resourceVersion
	Meta uint64 // ResponseMeta.ResourceVersion
	Data map[string]string
}

// updater returns an UpdateFunc that records its calls and applies change
// to a copy of the input.
func updater(calls *[]updateCall, change func(cm *corev1.ConfigMap) error) storage.UpdateFunc {
	return func(in runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
		cm := in.(*corev1.ConfigMap).DeepCopy()
		*calls = append(*calls, updateCall{RV: cm.ResourceVersion, Meta: res.ResourceVersion, Data: maps.Clone(cm.Data)})
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if err := change(cm); err != nil {
			return nil, nil, err
		}
		return cm, nil, nil
	}
}

func setKey(k, v string) func(*corev1.ConfigMap) error {
	return func(cm *corev1.ConfigMap) error { cm.Data[k] = v; return nil }
}

func ptrTo[T any](v T) *T { return &v }

var errVeto = errors.New("vetoed by the test")

func testStoreGuaranteedUpdate(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	unchanged := func(*corev1.ConfigMap) error { return nil }
	uid := func(u string) func(old, cur *corev1.ConfigMap) *storage.Preconditions {
		return func(_, _ *corev1.ConfigMap) *storage.Preconditions {
			return &storage.Preconditions{UID: ptrTo(types.UID(u))}
		}
	}
	cases := []struct {
		name           string
		setup          bool // create ns/<name> with k=v1 first
		rewrite        bool // then update it to k=v2
		ignoreNotFound bool
		preconditions  func(old, cur *corev1.ConfigMap) *storage.Preconditions
		change         func(*corev1.ConfigMap) error
		wantWrite      bool
		wantData       map[string]string
		is             func(error) bool
		isName         string
	}{
		{name: "update", setup: true, change: setKey("k", "v9"), wantWrite: true, wantData: map[string]string{"k": "v9"}},
		{name: "uid-matches", setup: true, preconditions: uid("uid-ns-uid-matches"),
			change: setKey("k", "v9"), wantWrite: true, wantData: map[string]string{"k": "v9"}},
		{name: "uid-differs", setup: true, preconditions: uid("other"),
			change: setKey("k", "v9"), is: storage.IsConflict, isName: "IsConflict"},
		{name: "rv-matches", setup: true, rewrite: true,
			preconditions: func(_, cur *corev1.ConfigMap) *storage.Preconditions {
				return &storage.Preconditions{ResourceVersion: ptrTo(cur.ResourceVersion)}
			},
			change: setKey("k", "v9"), wantWrite: true, wantData: map[string]string{"k": "v9"}},
		{name: "rv-stale", setup: true, rewrite: true,
			preconditions: func(old, _ *corev1.ConfigMap) *storage.Preconditions {
				return &storage.Preconditions{ResourceVersion: ptrTo(old.ResourceVersion)}
			},
			change: setKey("k", "v9"), is: storage.IsConflict, isName: "IsConflict"},
		{name: "no-op", setup: true, change: unchanged, wantData: map[string]string{"k": "v1"}},
		{name: "same-value", setup: true, rewrite: true, change: setKey("k", "v2"), wantData: map[string]string{"k": "v2"}},
		{name: "update-func-error", setup: true, change: func(*corev1.ConfigMap) error { return errVeto },
			is: func(err error) bool { return errors.Is(err, errVeto) }, isName: "the update func's error"},
		{name: "missing", change: setKey("k", "v9"), is: storage.IsNotFound, isName: "IsNotFound"},
		{name: "missing-ignored", ignoreNotFound: true, wantWrite: true, wantData: map[string]string{"k": "new"},
			change: func(cm *corev1.ConfigMap) error {
				cm.Namespace, cm.Name, cm.Data = "ns", "missing-ignored", map[string]string{"k": "new"}
				return nil
			}},
		{name: "existing-ignored", setup: true, ignoreNotFound: true, change: setKey("k", "v9"),
			wantWrite: true, wantData: map[string]string{"k": "v9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := cmKey("ns", tc.name)
			var old, cur *corev1.ConfigMap
			if tc.setup {
				old = e.createCM(configMap("ns", tc.name, "k", "v1"))
				cur = old
				if tc.rewrite {
					cur = e.setData(tc.name, "k", "v2")
				}
			}
			var pre *storage.Preconditions
			if tc.preconditions != nil {
				pre = tc.preconditions(old, cur)
			}
			before := e.rev()
			var calls []updateCall
			dest := &corev1.ConfigMap{}
			err := e.cms.GuaranteedUpdate(t.Context(), key, dest, tc.ignoreNotFound, pre, updater(&calls, tc.change), nil)
			after := e.rev()
			if tc.is != nil {
				wantErr(t, "GuaranteedUpdate", err, tc.is, tc.isName)
				if after != before {
					t.Errorf("failed GuaranteedUpdate moved the revision from %d to %d", before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("GuaranteedUpdate: %v", err)
			}
			wantCalls := []updateCall{{}} // one call, on an empty object
			if cur != nil {
				wantCalls = []updateCall{{RV: cur.ResourceVersion, Meta: uint64(mustRV(t, cur.ResourceVersion)), Data: cur.Data}}
			}
			if diff := cmp.Diff(wantCalls, calls, objOpts); diff != "" {
				t.Errorf("update func calls (-want +got):\n%s", diff)
			}
			wantVersion := rvString(before + 1)
			if !tc.wantWrite {
				wantVersion = cur.ResourceVersion
			}
			if tc.wantWrite != (after == before+1) || after > before+1 {
				t.Errorf("GuaranteedUpdate moved the revision from %d to %d; want a write: %v", before, after, tc.wantWrite)
			}
			if dest.ResourceVersion != wantVersion {
				t.Errorf("destination resourceVersion %s, want %s", dest.ResourceVersion, wantVersion)
			}
			if diff := cmp.Diff(tc.wantData, dest.Data, objOpts); diff != "" {
				t.Errorf("destination data (-want +got):\n%s", diff)
			}
			got, err := e.getCM(tc.name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(dest, got, objOpts); diff != "" {
				t.Errorf("stored object differs from the destination (-dest +stored):\n%s", diff)
			}
		})
	}
}

func mustRV(t *testing.T, rv string) int64 {
	t.Helper()
	n, err := storage.APIObjectVersioner{}.ParseResourceVersion(rv)
	if err != nil {
		t.Fatalf("parse resourceVersion %q: %v", rv, err)
	}
	return int64(n)
}

// testStoreGuaranteedUpdateCached passes stale cached objects: the update
// must end up applied to the stored state.
func testStoreGuaranteedUpdateCached(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	increment := func(cm *corev1.ConfigMap) error { cm.Data["n"] += "+"; return nil }

	t.Run("stale object is retried", func(t *testing.T) {
		stale := e.createCM(configMap("ns", "a", "n", "1"))
		current := e.setData("a", "n", "2")
		var calls []updateCall
		dest := &corev1.ConfigMap{}
		if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "a"), dest, false, nil, updater(&calls, increment), stale); err != nil {
			t.Fatalf("GuaranteedUpdate: %v", err)
		}
		if dest.Data["n"] != "2+" || dest.ResourceVersion != rvString(e.rev()) {
			t.Errorf("destination n=%q rv=%s, want n=2+ rv=%d: the update must apply to the stored state", dest.Data["n"], dest.ResourceVersion, e.rev())
		}
		if last := calls[len(calls)-1]; last.RV != current.ResourceVersion {
			t.Errorf("last update func call saw resourceVersion %s, want the stored %s", last.RV, current.ResourceVersion)
		}
	})
	t.Run("stale no-op is rechecked", func(t *testing.T) {
		stale := e.createCM(configMap("ns", "b", "n", "1"))
		e.setData("b", "n", "2")
		before := e.rev()
		var calls []updateCall
		dest := &corev1.ConfigMap{}
		// Setting n=1 changes nothing on the cached object but does on the stored one.
		if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "b"), dest, false, nil, updater(&calls, setKey("n", "1")), stale); err != nil {
			t.Fatalf("GuaranteedUpdate: %v", err)
		}
		if got, _ := e.getCM("b"); got.Data["n"] != "1" || e.rev() != before+1 {
			t.Errorf("stored n=%q at revision %d, want n=1 written at %d", got.Data["n"], e.rev(), before+1)
		}
	})
	t.Run("stale uid is rechecked", func(t *testing.T) {
		old := e.createCM(configMap("ns", "c", "n", "1"))
		if err := e.cms.Delete(ctx, cmKey("ns", "c"), &corev1.ConfigMap{}, nil, nil, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		fresh := configMap("ns", "c", "n", "new")
		fresh.UID = "uid-recreated"
		e.createCM(fresh)
		var calls []updateCall
		dest := &corev1.ConfigMap{}
		pre := &storage.Preconditions{UID: ptrTo(types.UID("uid-recreated"))}
		if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "c"), dest, false, pre, updater(&calls, increment), old); err != nil {
			t.Fatalf("GuaranteedUpdate with a cached object of an older uid: %v", err)
		}
		if dest.Data["n"] != "new+" || dest.UID != "uid-recreated" {
			t.Errorf("destination n=%q uid=%s, want n=new+ uid=uid-recreated", dest.Data["n"], dest.UID)
		}
	})
	t.Run("cached object of a deleted key", func(t *testing.T) {
		old := e.createCM(configMap("ns", "d", "n", "1"))
		if err := e.cms.Delete(ctx, cmKey("ns", "d"), &corev1.ConfigMap{}, nil, nil, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		before := e.rev()
		var calls []updateCall
		err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "d"), &corev1.ConfigMap{}, false, nil, updater(&calls, increment), old)
		wantErr(t, "GuaranteedUpdate of a deleted key from a cached object", err, storage.IsNotFound, "IsNotFound")
		if e.rev() != before {
			t.Errorf("failed update moved the revision from %d to %d", before, e.rev())
		}
	})
	t.Run("cached object of the stored revision stands in for it, unmodified", func(t *testing.T) {
		current := e.createCM(configMap("ns", "f", "n", "1"))
		// The same revision with other data: only a copy of it can make
		// the update func see "cached".
		cached := current.DeepCopy()
		cached.Data["n"] = "cached"
		before := cached.DeepCopy()
		var seen string
		inPlace := func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			cm := in.(*corev1.ConfigMap)
			seen = cm.Data["n"]
			cm.Data["n"] += "+"
			return cm, nil, nil
		}
		dest := &corev1.ConfigMap{}
		if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "f"), dest, false, nil, inPlace, cached); err != nil {
			t.Fatalf("GuaranteedUpdate: %v", err)
		}
		if seen != "cached" || dest.Data["n"] != "cached+" {
			t.Errorf("update func saw n=%q, stored n=%q; want the cached object's copy: cached, cached+", seen, dest.Data["n"])
		}
		if !reflect.DeepEqual(cached, before) {
			t.Errorf("the cached object was modified: %v, was %v", cached, before)
		}
	})
	t.Run("fresh cached object", func(t *testing.T) {
		current := e.createCM(configMap("ns", "e", "n", "1"))
		var calls []updateCall
		dest := &corev1.ConfigMap{}
		if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "e"), dest, false, nil, updater(&calls, increment), current); err != nil {
			t.Fatalf("GuaranteedUpdate: %v", err)
		}
		if len(calls) != 1 || dest.Data["n"] != "1+" {
			t.Errorf("%d update func calls, n=%q; want 1 call and n=1+", len(calls), dest.Data["n"])
		}
	})
}

func testStoreDelete(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	veto := func(context.Context, runtime.Object) error { return errVeto }
	cases := []struct {
		name     string
		missing  bool
		pre      func(cur *corev1.ConfigMap) *storage.Preconditions
		validate storage.ValidateObjectFunc
		is       func(error) bool
		isName   string
	}{
		{name: "plain"},
		{name: "uid-matches", pre: func(cur *corev1.ConfigMap) *storage.Preconditions {
			return &storage.Preconditions{UID: ptrTo(cur.UID)}
		}},
		{name: "rv-matches", pre: func(cur *corev1.ConfigMap) *storage.Preconditions {
			return &storage.Preconditions{UID: ptrTo(cur.UID), ResourceVersion: ptrTo(cur.ResourceVersion)}
		}},
		{name: "uid-differs", is: storage.IsConflict, isName: "IsConflict", pre: func(*corev1.ConfigMap) *storage.Preconditions {
			return &storage.Preconditions{UID: ptrTo(types.UID("other"))}
		}},
		{name: "rv-differs", is: storage.IsConflict, isName: "IsConflict", pre: func(cur *corev1.ConfigMap) *storage.Preconditions {
			return &storage.Preconditions{ResourceVersion: ptrTo(rvString(mustRV(t, cur.ResourceVersion) - 1))}
		}},
		{name: "validation-vetoes", validate: veto, is: func(err error) bool { return errors.Is(err, errVeto) }, isName: "the veto"},
		{name: "missing", missing: true, is: storage.IsNotFound, isName: "IsNotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cur *corev1.ConfigMap
			if !tc.missing {
				e.createCM(configMap("ns", tc.name, "k", "v1"))
				cur = e.setData(tc.name, "k", "v2")
			}
			var pre *storage.Preconditions
			if tc.pre != nil {
				pre = tc.pre(cur)
			}
			var validated []*corev1.ConfigMap
			validate := func(ctx context.Context, obj runtime.Object) error {
				validated = append(validated, obj.(*corev1.ConfigMap).DeepCopy())
				if tc.validate != nil {
					return tc.validate(ctx, obj)
				}
				return nil
			}
			before := e.rev()
			out := &corev1.ConfigMap{}
			err := e.cms.Delete(t.Context(), cmKey("ns", tc.name), out, pre, validate, nil)
			if tc.is != nil {
				wantErr(t, "Delete", err, tc.is, tc.isName)
				if e.rev() != before {
					t.Errorf("failed Delete moved the revision from %d to %d", before, e.rev())
				}
				if cur != nil {
					got, err := e.getCM(tc.name)
					if err != nil {
						t.Fatalf("Get after a failed Delete: %v", err)
					}
					if diff := cmp.Diff(cur, got, objOpts); diff != "" {
						t.Errorf("failed Delete changed the object (-want +got):\n%s", diff)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if e.rev() != before+1 {
				t.Fatalf("Delete moved the revision from %d to %d, want one write", before, e.rev())
			}
			want := cur.DeepCopy()
			want.ResourceVersion = rvString(before + 1)
			if diff := cmp.Diff(want, out, objOpts); diff != "" {
				t.Errorf("Delete's out: the last state at the delete's revision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]*corev1.ConfigMap{cur}, validated, objOpts); diff != "" {
				t.Errorf("validateDeletion calls (-want +got):\n%s", diff)
			}
			_, err = e.getCM(tc.name)
			wantErr(t, "Get after Delete", err, storage.IsNotFound, "IsNotFound")
		})
	}
}

// testStoreDeleteCached passes stale cached objects to Delete.
func testStoreDeleteCached(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	t.Run("stale object is retried", func(t *testing.T) {
		stale := e.createCM(configMap("ns", "a", "k", "v1"))
		cur := e.setData("a", "k", "v2")
		var validated []string
		validate := func(_ context.Context, obj runtime.Object) error {
			validated = append(validated, obj.(*corev1.ConfigMap).Data["k"])
			return nil
		}
		out := &corev1.ConfigMap{}
		if err := e.cms.Delete(ctx, cmKey("ns", "a"), out, nil, validate, stale); err != nil {
			t.Fatalf("Delete with a stale cached object: %v", err)
		}
		want := cur.DeepCopy()
		want.ResourceVersion = rvString(e.rev())
		if diff := cmp.Diff(want, out, objOpts); diff != "" {
			t.Errorf("Delete's out: the stored state, not the cached one (-want +got):\n%s", diff)
		}
		if len(validated) == 0 || validated[len(validated)-1] != "v2" {
			t.Errorf("validateDeletion saw %v, want the stored v2 last", validated)
		}
	})
	t.Run("stale precondition is rechecked", func(t *testing.T) {
		stale := e.createCM(configMap("ns", "b", "k", "v1"))
		cur := e.setData("b", "k", "v2")
		pre := &storage.Preconditions{ResourceVersion: ptrTo(cur.ResourceVersion)}
		if err := e.cms.Delete(ctx, cmKey("ns", "b"), &corev1.ConfigMap{}, pre, nil, stale); err != nil {
			t.Fatalf("Delete with a stale cached object and a current precondition: %v", err)
		}
	})
	t.Run("cached object of a deleted key", func(t *testing.T) {
		old := e.createCM(configMap("ns", "c"))
		if err := e.cms.Delete(ctx, cmKey("ns", "c"), &corev1.ConfigMap{}, nil, nil, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		err := e.cms.Delete(ctx, cmKey("ns", "c"), &corev1.ConfigMap{}, nil, nil, old)
		wantErr(t, "Delete of a deleted key from a cached object", err, storage.IsNotFound, "IsNotFound")
	})
}
