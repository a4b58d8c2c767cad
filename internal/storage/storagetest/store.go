package storagetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/storage"
)

// RunStoreSuite checks storage.Store, the codec-aware Interface, on top of
// the backends f opens, with real ConfigMaps and Pods encoded as JSON and
// as protobuf: create, get, list with selectors, revisions and pages,
// guaranteed updates, deletes, watches, TTL and concurrent use.
func RunStoreSuite(t *testing.T, f Factory) {
	cases := []struct {
		name string
		run  func(t *testing.T, f Factory, c codec)
	}{
		{"Create", testStoreCreate},
		{"Get", testStoreGet},
		{"Count", testStoreCount},
		{"TTL", testStoreTTL},
		{"GetListSelectors", testStoreListSelectors},
		{"GetListPages", testStoreListPages},
		{"GetListContinuePinsRevision", testStoreListContinuePinned},
		{"GetListContinueExpired", testStoreListContinueExpired},
		{"GetListResourceVersion", testStoreListResourceVersion},
		{"GetListCompacted", testStoreListCompacted},
		{"GetListSingleKey", testStoreListSingleKey},
		{"GuaranteedUpdate", testStoreGuaranteedUpdate},
		{"GuaranteedUpdateCached", testStoreGuaranteedUpdateCached},
		{"Delete", testStoreDelete},
		{"DeleteCached", testStoreDeleteCached},
		{"WatchInitialState", testStoreWatchInitial},
		{"WatchFromResourceVersion", testStoreWatchFromRV},
		{"WatchPredicate", testStoreWatchPredicate},
		{"WatchOneKey", testStoreWatchOneKey},
		{"WatchOwnObjects", testStoreWatchOwnObjects},
		{"WatchTakesWritten", testStoreWatchTakesWritten},
		{"WatchCompacted", testStoreWatchCompacted},
		{"WatchStop", testStoreWatchStop},
	}
	all := codecs(t)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, f, c) })
			}
		})
	}
	json := all[0]
	t.Run("ConcurrentGuaranteedUpdate", func(t *testing.T) { testStoreConcurrentUpdates(t, f, json) })
	t.Run("PagesWhileWriting", func(t *testing.T) { testStorePagesWhileWriting(t, f, json) })
}

// codec is one way to encode objects in the store.
type codec struct {
	name  string
	codec runtime.Codec
}

// codecs returns the JSON codec the API server uses for core/v1 and the
// protobuf one.
func codecs(t *testing.T) []codec {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatalf("register core/v1: %v", err)
	}
	cf := serializer.NewCodecFactory(scheme)
	pb := protobuf.NewSerializer(scheme, scheme)
	return []codec{
		{"json", cf.LegacyCodec(corev1.SchemeGroupVersion)},
		{"protobuf", cf.CodecForVersions(pb, pb, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion)},
	}
}

// storeEnv is one backend with a Store for ConfigMaps and one for Pods.
type storeEnv struct {
	t       *testing.T
	backend storage.Backend
	cms     *storage.Store
	pods    *storage.Store
}

func newStoreEnv(t *testing.T, f Factory, c codec) *storeEnv {
	t.Helper()
	b := open(t, f)
	return &storeEnv{
		t:       t,
		backend: b,
		cms: storage.NewStore(b, storage.Config{
			Codec:   c.codec,
			NewFunc: func() runtime.Object { return &corev1.ConfigMap{} },
		}),
		pods: storage.NewStore(b, storage.Config{
			Codec:   c.codec,
			NewFunc: func() runtime.Object { return &corev1.Pod{} },
		}),
	}
}

func cmKey(ns, name string) string  { return "/registry/configmaps/" + ns + "/" + name }
func podKey(ns, name string) string { return "/registry/pods/" + ns + "/" + name }

// configMap builds a ConfigMap; kv is alternating data keys and values.
func configMap(ns, name string, kv ...string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Data:       map[string]string{},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cm.Data[kv[i]] = kv[i+1]
	}
	return cm
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, UID: types.UID("uid-" + ns + "-" + name)},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Containers: []corev1.Container{{Name: "main", Image: "registry.example/app:1"}},
		},
	}
}

// rev is the backend's current revision.
func (e *storeEnv) rev() int64 { return revision(e.t, e.backend) }

func (e *storeEnv) createCM(obj *corev1.ConfigMap) *corev1.ConfigMap {
	e.t.Helper()
	out := &corev1.ConfigMap{}
	if err := e.cms.Create(e.t.Context(), cmKey(obj.Namespace, obj.Name), obj, out, 0); err != nil {
		e.t.Fatalf("Create configmap %s/%s: %v", obj.Namespace, obj.Name, err)
	}
	return out
}

func (e *storeEnv) createPod(obj *corev1.Pod) *corev1.Pod {
	e.t.Helper()
	out := &corev1.Pod{}
	if err := e.pods.Create(e.t.Context(), podKey(obj.Namespace, obj.Name), obj, out, 0); err != nil {
		e.t.Fatalf("Create pod %s/%s: %v", obj.Namespace, obj.Name, err)
	}
	return out
}

// setData sets data key k of ConfigMap ns/name through GuaranteedUpdate and
// returns the stored object.
func (e *storeEnv) setData(name, k, v string) *corev1.ConfigMap {
	e.t.Helper()
	out := &corev1.ConfigMap{}
	err := e.cms.GuaranteedUpdate(e.t.Context(), cmKey("ns", name), out, false, nil,
		func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			cm := in.(*corev1.ConfigMap).DeepCopy()
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[k] = v
			return cm, nil, nil
		}, nil)
	if err != nil {
		e.t.Fatalf("update configmap ns/%s: %v", name, err)
	}
	return out
}

func (e *storeEnv) getCM(name string) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := e.cms.Get(e.t.Context(), cmKey("ns", name), storage.GetOptions{}, out)
	return out, err
}

// objOpts compare decoded objects: nil and empty maps and slices are equal.
var objOpts = cmp.Options{cmpopts.EquateEmpty()}

func rvString(rev int64) string { return strconv.FormatInt(rev, 10) }

func testStoreCreate(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	before := e.rev()

	obj := configMap("ns", "a", "k", "v")
	obj.Labels = map[string]string{"app": "web"}
	orig := obj.DeepCopy()
	out := &corev1.ConfigMap{}
	if err := e.cms.Create(ctx, cmKey("ns", "a"), obj, out, 0); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if diff := cmp.Diff(orig, obj, objOpts); diff != "" {
		t.Errorf("Create changed its input (-before +after):\n%s", diff)
	}
	want := orig.DeepCopy()
	want.ResourceVersion = rvString(before + 1)
	if diff := cmp.Diff(want.ObjectMeta, out.ObjectMeta, objOpts); diff != "" {
		t.Errorf("Create's out metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Data, out.Data, objOpts); diff != "" {
		t.Errorf("Create's out data (-want +got):\n%s", diff)
	}
	got, err := e.getCM("a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(out, got, objOpts); diff != "" {
		t.Errorf("Get after Create differs from Create's out (-create +get):\n%s", diff)
	}

	// The stored bytes carry no resourceVersion: it comes from the revision.
	kv, _, err := e.backend.Get(ctx, cmKey("ns", "a"))
	if err != nil || kv == nil {
		t.Fatalf("backend Get = %v, %v", kv, err)
	}
	raw := &corev1.ConfigMap{}
	if err := runtime.DecodeInto(c.codec, kv.Value, raw); err != nil {
		t.Fatalf("decode stored bytes: %v", err)
	}
	if raw.ResourceVersion != "" {
		t.Errorf("stored object carries resourceVersion %q", raw.ResourceVersion)
	}

	t.Run("exists", func(t *testing.T) {
		err := e.cms.Create(ctx, cmKey("ns", "a"), configMap("ns", "a", "k", "other"), &corev1.ConfigMap{}, 0)
		wantErr(t, "Create of an existing key", err, storage.IsExists, "IsExists")
		if got, _ := e.getCM("a"); got.Data["k"] != "v" {
			t.Errorf("failed Create overwrote the object: %v", got.Data)
		}
	})
	t.Run("resourceVersion set", func(t *testing.T) {
		rev := e.rev()
		obj := configMap("ns", "b")
		obj.ResourceVersion = "5"
		err := e.cms.Create(ctx, cmKey("ns", "b"), obj, &corev1.ConfigMap{}, 0)
		wantErr(t, "Create with a resourceVersion", err, storage.IsInvalidRequest, "IsInvalidRequest")
		if now := e.rev(); now != rev {
			t.Errorf("rejected Create moved the revision from %d to %d", rev, now)
		}
		_, err = e.getCM("b")
		wantErr(t, "Get after a rejected Create", err, storage.IsNotFound, "IsNotFound")
	})
	t.Run("nil out", func(t *testing.T) {
		if err := e.cms.Create(ctx, cmKey("ns", "c"), configMap("ns", "c"), nil, 0); err != nil {
			t.Fatalf("Create with nil out: %v", err)
		}
		got, err := e.getCM("c")
		if err != nil || got.ResourceVersion != rvString(e.rev()) {
			t.Fatalf("Get = %v (rv %q), want rv %d", err, got.ResourceVersion, e.rev())
		}
	})
}

func testStoreGet(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	created := e.createCM(configMap("ns", "a", "k", "v"))
	cur := e.rev()
	e.createCM(configMap("ns", "other"))
	cur++
	cases := []struct {
		name    string
		key     string
		opts    storage.GetOptions
		junkOut bool // out starts filled, and must come back zeroed
		want    *corev1.ConfigMap
		is      func(error) bool
		isName  string
	}{
		{name: "existing", key: cmKey("ns", "a"), want: created},
		{name: "missing", key: cmKey("ns", "b"), is: storage.IsNotFound, isName: "IsNotFound"},
		{name: "missing ignored", key: cmKey("ns", "b"), opts: storage.GetOptions{IgnoreNotFound: true}, junkOut: true, want: &corev1.ConfigMap{}},
		{name: "prefix of a key", key: cmKey("ns", ""), is: storage.IsNotFound, isName: "IsNotFound"},
		{name: "current resourceVersion", key: cmKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: rvString(cur)}, want: created},
		{name: "older resourceVersion", key: cmKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: "1"}, want: created},
		{name: "resourceVersion 0", key: cmKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: "0"}, want: created},
		{name: "future resourceVersion", key: cmKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: rvString(cur + 1)},
			is: storage.IsTooLargeRevision, isName: "IsTooLargeRevision"},
		{name: "future resourceVersion of a missing key", key: cmKey("ns", "b"),
			opts: storage.GetOptions{ResourceVersion: rvString(cur + 100), IgnoreNotFound: true},
			is:   storage.IsTooLargeRevision, isName: "IsTooLargeRevision"},
		{name: "malformed resourceVersion", key: cmKey("ns", "a"), opts: storage.GetOptions{ResourceVersion: "abc"},
			is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &corev1.ConfigMap{}
			if tc.junkOut {
				out = configMap("junk", "junk", "junk", "junk")
			}
			err := e.cms.Get(t.Context(), tc.key, tc.opts, out)
			if tc.is != nil {
				wantErr(t, "Get", err, tc.is, tc.isName)
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(tc.want, out, objOpts); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		})
	}
}

func testStoreCount(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	for _, name := range []string{"a", "b", "c"} {
		e.createCM(configMap("ns1", name))
	}
	e.createCM(configMap("ns10", "a"))
	if err := e.cms.Delete(t.Context(), cmKey("ns1", "b"), &corev1.ConfigMap{}, nil, nil, nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	cases := []struct {
		key  string
		want int64
	}{
		{"/registry/configmaps", 3},
		{"/registry/configmaps/", 3},
		{"/registry/configmaps/ns1", 2},
		{"/registry/configmaps/ns10", 1},
		{"/registry/configmaps/ns2", 0},
		{"/registry/pods", 0},
	}
	for _, tc := range cases {
		got, err := e.cms.Count(t.Context(), tc.key)
		if err != nil {
			t.Fatalf("Count(%s): %v", tc.key, err)
		}
		if got != tc.want {
			t.Errorf("Count(%s) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// testStoreTTL checks Create's ttl is in seconds and expires the object.
func testStoreTTL(t *testing.T, f Factory, c codec) {
	t.Parallel() // mostly waiting
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	if err := e.cms.Create(ctx, cmKey("ns", "short"), configMap("ns", "short"), nil, 1); err != nil {
		t.Fatalf("Create with ttl: %v", err)
	}
	if err := e.cms.Create(ctx, cmKey("ns", "long"), configMap("ns", "long"), nil, 3600); err != nil {
		t.Fatalf("Create with ttl: %v", err)
	}
	if _, err := e.getCM("short"); err != nil {
		t.Fatalf("Get right after Create with ttl 1s: %v", err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := e.getCM("short")
		if storage.IsNotFound(err) {
			break
		}
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("object with ttl 1s still there after %v", waitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.getCM("long"); err != nil {
		t.Fatalf("object with ttl 1h: %v", err)
	}
}
