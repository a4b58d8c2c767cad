package storagetest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/storage"
)

// listPodsFixture creates the pods the list cases select from and returns
// them in key order. Namespace ns10 checks that listing ns1 is not a plain
// string prefix match.
func listPodsFixture(e *storeEnv) []*corev1.Pod {
	return []*corev1.Pod{
		e.createPod(pod("ns1", "a", map[string]string{"app": "web", "tier": "fe"})),
		e.createPod(pod("ns1", "b", map[string]string{"app": "db"})),
		e.createPod(pod("ns1", "c", map[string]string{"app": "web"})),
		e.createPod(pod("ns10", "a", map[string]string{"app": "web"})),
		e.createPod(pod("ns2", "a", map[string]string{"app": "web"})),
	}
}

func (e *storeEnv) listPods(key string, opts storage.ListOptions) (*corev1.PodList, error) {
	list := &corev1.PodList{}
	err := e.pods.GetList(e.t.Context(), key, opts, list)
	return list, err
}

func (e *storeEnv) listCMs(key string, opts storage.ListOptions) (*corev1.ConfigMapList, error) {
	list := &corev1.ConfigMapList{}
	err := e.cms.GetList(e.t.Context(), key, opts, list)
	return list, err
}

func selectPods(pods []*corev1.Pod, keep func(*corev1.Pod) bool) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if keep(p) {
			out = append(out, *p)
		}
	}
	return out
}

func mustLabels(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("parse label selector %q: %v", s, err)
	}
	return sel
}

func mustFields(t *testing.T, s string) fields.Selector {
	t.Helper()
	sel, err := fields.ParseSelector(s)
	if err != nil {
		t.Fatalf("parse field selector %q: %v", s, err)
	}
	return sel
}

func testStoreListSelectors(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	pods := listPodsFixture(e)
	e.createCM(configMap("ns1", "not-a-pod"))
	cur := rvString(e.rev())
	all := func(*corev1.Pod) bool { return true }
	cases := []struct {
		name         string
		key          string
		label, field string
		want         func(*corev1.Pod) bool
	}{
		{"all", "/registry/pods", "", "", all},
		{"all with slash", "/registry/pods/", "", "", all},
		{"namespace", "/registry/pods/ns1", "", "", func(p *corev1.Pod) bool { return p.Namespace == "ns1" }},
		{"empty namespace", "/registry/pods/ns3", "", "", func(*corev1.Pod) bool { return false }},
		{"label equals", "/registry/pods", "app=web", "", func(p *corev1.Pod) bool { return p.Labels["app"] == "web" }},
		{"label not equals", "/registry/pods", "app!=web", "", func(p *corev1.Pod) bool { return p.Labels["app"] != "web" }},
		{"label exists", "/registry/pods", "tier", "", func(p *corev1.Pod) bool { return p.Labels["tier"] != "" }},
		{"label in namespace", "/registry/pods/ns1", "app=web", "", func(p *corev1.Pod) bool { return p.Namespace == "ns1" && p.Labels["app"] == "web" }},
		{"field name", "/registry/pods", "", "metadata.name=a", func(p *corev1.Pod) bool { return p.Name == "a" }},
		{"field name not equals", "/registry/pods", "", "metadata.name!=a", func(p *corev1.Pod) bool { return p.Name != "a" }},
		{"field namespace", "/registry/pods", "", "metadata.namespace=ns2", func(p *corev1.Pod) bool { return p.Namespace == "ns2" }},
		{"label and field", "/registry/pods", "app=web", "metadata.name=c", func(p *corev1.Pod) bool { return p.Name == "c" }},
		{"nothing matches", "/registry/pods", "app=none", "", func(*corev1.Pod) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pred := storage.Predicate{}
			if tc.label != "" {
				pred.Label = mustLabels(t, tc.label)
			}
			if tc.field != "" {
				pred.Field = mustFields(t, tc.field)
			}
			list, err := e.listPods(tc.key, storage.ListOptions{Predicate: pred, Recursive: true})
			if err != nil {
				t.Fatalf("GetList: %v", err)
			}
			if diff := cmp.Diff(selectPods(pods, tc.want), list.Items, objOpts); diff != "" {
				t.Errorf("GetList(%s, label %q, field %q) (-want +got):\n%s", tc.key, tc.label, tc.field, diff)
			}
			want := metav1.ListMeta{ResourceVersion: cur}
			if diff := cmp.Diff(want, list.ListMeta); diff != "" {
				t.Errorf("list metadata (-want +got):\n%s", diff)
			}
		})
	}
}

// walkPages lists key page by page and returns all items and the pages'
// metadata.
func walkPages(t *testing.T, e *storeEnv, key string, pred storage.Predicate) ([]corev1.Pod, []metav1.ListMeta, []int) {
	t.Helper()
	var (
		items []corev1.Pod
		metas []metav1.ListMeta
		sizes []int
	)
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("more than 100 pages: continue tokens do not advance")
		}
		list, err := e.listPods(key, storage.ListOptions{Predicate: pred, Recursive: true})
		if err != nil {
			t.Fatalf("GetList page %d: %v", page, err)
		}
		items = append(items, list.Items...)
		metas = append(metas, list.ListMeta)
		sizes = append(sizes, len(list.Items))
		if list.Continue == "" {
			return items, metas, sizes
		}
		pred.Continue = list.Continue
	}
}

func testStoreListPages(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	pods := listPodsFixture(e)
	cur := rvString(e.rev())
	cases := []struct {
		limit int64
		label string
	}{
		{1, ""}, {2, ""}, {4, ""}, {5, ""}, {6, ""}, {1, "app=web"}, {2, "app=web"}, {3, "app=db"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("limit %d label %q", tc.limit, tc.label), func(t *testing.T) {
			pred := storage.Predicate{Limit: tc.limit}
			want := selectPods(pods, func(*corev1.Pod) bool { return true })
			if tc.label != "" {
				sel := mustLabels(t, tc.label)
				pred.Label = sel
				want = selectPods(pods, func(p *corev1.Pod) bool { return sel.Matches(labels.Set(p.Labels)) })
			}
			items, metas, sizes := walkPages(t, e, "/registry/pods", pred)
			if diff := cmp.Diff(want, items, objOpts); diff != "" {
				t.Errorf("all pages together (-want +got):\n%s", diff)
			}
			seen := int64(0)
			for i, m := range metas {
				seen += int64(sizes[i])
				if m.ResourceVersion != cur {
					t.Errorf("page %d has resourceVersion %q, want %q", i, m.ResourceVersion, cur)
				}
				if int64(sizes[i]) > tc.limit {
					t.Errorf("page %d has %d items, over the limit %d", i, sizes[i], tc.limit)
				}
				last := i == len(metas)-1
				if tc.label == "" && !last && int64(sizes[i]) != tc.limit {
					t.Errorf("page %d of an unfiltered list has %d items, want the limit %d", i, sizes[i], tc.limit)
				}
				var wantRemaining *int64
				if tc.label == "" && !last {
					n := int64(len(pods)) - seen
					wantRemaining = &n
				}
				if diff := cmp.Diff(wantRemaining, m.RemainingItemCount); diff != "" {
					t.Errorf("page %d remainingItemCount (-want +got), set only without a selector and only with a continue token:\n%s", i, diff)
				}
			}
			if tc.label == "" {
				if wantPages := (int64(len(pods)) + tc.limit - 1) / tc.limit; int64(len(metas)) != wantPages {
					t.Errorf("%d pages of %d items with limit %d, want %d", len(metas), len(pods), tc.limit, wantPages)
				}
			}
		})
	}
}

// testStoreListContinuePinned checks the pages after the first show the
// state at the first page's revision whatever is written in between.
func testStoreListContinuePinned(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	pods := listPodsFixture(e)
	ctx := t.Context()
	first, err := e.listPods("/registry/pods", storage.ListOptions{Predicate: storage.Predicate{Limit: 2}, Recursive: true})
	if err != nil {
		t.Fatalf("GetList page 1: %v", err)
	}
	if diff := cmp.Diff([]corev1.Pod{*pods[0], *pods[1]}, first.Items, objOpts); diff != "" {
		t.Fatalf("page 1 (-want +got):\n%s", diff)
	}

	// Change what the next pages would show: update ns1/c, delete ns10/a,
	// create ns1/d between them and ns0/z before the first page.
	err = e.pods.GuaranteedUpdate(ctx, podKey("ns1", "c"), &corev1.Pod{}, false, nil,
		func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			p := in.(*corev1.Pod).DeepCopy()
			p.Labels["app"] = "changed"
			return p, nil, nil
		}, nil)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := e.pods.Delete(ctx, podKey("ns10", "a"), &corev1.Pod{}, nil, nil, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	e.createPod(pod("ns1", "d", nil))
	e.createPod(pod("ns0", "z", nil))

	pred := storage.Predicate{Limit: 2, Continue: first.Continue}
	second, err := e.listPods("/registry/pods", storage.ListOptions{Predicate: pred, Recursive: true})
	if err != nil {
		t.Fatalf("GetList page 2: %v", err)
	}
	if diff := cmp.Diff([]corev1.Pod{*pods[2], *pods[3]}, second.Items, objOpts); diff != "" {
		t.Errorf("page 2 must show the state at page 1's revision (-want +got):\n%s", diff)
	}
	if second.ResourceVersion != first.ResourceVersion {
		t.Errorf("page 2 has resourceVersion %s, page 1 %s", second.ResourceVersion, first.ResourceVersion)
	}
	pred.Continue = second.Continue
	third, err := e.listPods("/registry/pods", storage.ListOptions{Predicate: pred, Recursive: true})
	if err != nil {
		t.Fatalf("GetList page 3: %v", err)
	}
	if diff := cmp.Diff([]corev1.Pod{*pods[4]}, third.Items, objOpts); diff != "" {
		t.Errorf("page 3 (-want +got):\n%s", diff)
	}
	if third.Continue != "" || third.ResourceVersion != first.ResourceVersion {
		t.Errorf("page 3: continue %q, resourceVersion %s; want none and %s", third.Continue, third.ResourceVersion, first.ResourceVersion)
	}

	// A fresh list sees the writes.
	now, err := e.listPods("/registry/pods", storage.ListOptions{Recursive: true})
	if err != nil {
		t.Fatalf("GetList: %v", err)
	}
	var names []string
	for _, p := range now.Items {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	if diff := cmp.Diff([]string{"ns0/z", "ns1/a", "ns1/b", "ns1/c", "ns1/d", "ns2/a"}, names); diff != "" {
		t.Errorf("current list (-want +got):\n%s", diff)
	}
}

func testStoreListContinueExpired(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	comp := compactor(t, e.backend)
	listPodsFixture(e)
	first, err := e.listPods("/registry/pods", storage.ListOptions{Predicate: storage.Predicate{Limit: 2}, Recursive: true})
	if err != nil {
		t.Fatalf("GetList page 1: %v", err)
	}
	e.createPod(pod("ns3", "x", nil))
	e.createPod(pod("ns3", "y", nil))
	if err := comp.Compact(t.Context(), e.rev()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	_, err = e.listPods("/registry/pods", storage.ListOptions{Predicate: storage.Predicate{Limit: 2, Continue: first.Continue}, Recursive: true})
	wantErr(t, "GetList with a continue token at a compacted revision", err, storage.IsExpired, "IsExpired")
}

// testStoreListResourceVersion checks resourceVersion and
// resourceVersionMatch on lists against a history of two states.
func testStoreListResourceVersion(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	v1 := e.createCM(configMap("ns", "a", "k", "v1"))
	old := e.rev()
	v2 := e.setData("a", "k", "v2")
	b := e.createCM(configMap("ns", "b"))
	cur := e.rev()
	oldState := []corev1.ConfigMap{*v1}
	curState := []corev1.ConfigMap{*v2, *b}
	exact, notOlder := metav1.ResourceVersionMatchExact, metav1.ResourceVersionMatchNotOlderThan

	first, err := e.listCMs("/registry/configmaps", storage.ListOptions{Predicate: storage.Predicate{Limit: 1}, Recursive: true})
	if err != nil || first.Continue == "" {
		t.Fatalf("GetList with limit 1 = continue %q, %v; want a continue token", first.Continue, err)
	}

	cases := []struct {
		name   string
		rv     string
		match  metav1.ResourceVersionMatch
		limit  int64
		cont   string
		want   []corev1.ConfigMap
		wantRV int64
		is     func(error) bool
		isName string
	}{
		{name: "unset", want: curState, wantRV: cur},
		{name: "0", rv: "0", want: curState, wantRV: cur},
		{name: "exact old", rv: rvString(old), match: exact, want: oldState, wantRV: old},
		{name: "exact current", rv: rvString(cur), match: exact, want: curState, wantRV: cur},
		{name: "not older than old", rv: rvString(old), match: notOlder, want: curState, wantRV: cur},
		{name: "not older than current", rv: rvString(cur), match: notOlder, want: curState, wantRV: cur},
		{name: "old without match", rv: rvString(old), want: curState, wantRV: cur},
		{name: "old with limit reads exactly there", rv: rvString(old), limit: 10, want: oldState, wantRV: old},
		{name: "not older than future", rv: rvString(cur + 1), match: notOlder, is: storage.IsTooLargeRevision, isName: "IsTooLargeRevision"},
		{name: "future without match", rv: rvString(cur + 10), is: storage.IsTooLargeRevision, isName: "IsTooLargeRevision"},
		{name: "exact future", rv: rvString(cur + 10), match: exact, is: storage.IsTooLargeRevision, isName: "IsTooLargeRevision"},
		{name: "exact 0", rv: "0", match: exact, is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
		{name: "malformed", rv: "abc", is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
		{name: "unknown match", rv: "1", match: "Sometime", is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
		{name: "continue and resourceVersion", rv: rvString(old), limit: 1, cont: first.Continue, is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
		{name: "continue garbage", limit: 1, cont: "not a token!", is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
		{name: "continue base64 garbage", limit: 1, cont: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", is: storage.IsInvalidRequest, isName: "IsInvalidRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := storage.ListOptions{
				ResourceVersion:      tc.rv,
				ResourceVersionMatch: tc.match,
				Predicate:            storage.Predicate{Limit: tc.limit, Continue: tc.cont},
				Recursive:            true,
			}
			list, err := e.listCMs("/registry/configmaps", opts)
			if tc.is != nil {
				wantErr(t, "GetList", err, tc.is, tc.isName)
				return
			}
			if err != nil {
				t.Fatalf("GetList: %v", err)
			}
			if diff := cmp.Diff(tc.want, list.Items, objOpts); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if list.ResourceVersion != rvString(tc.wantRV) {
				t.Errorf("list resourceVersion %s, want %d", list.ResourceVersion, tc.wantRV)
			}
		})
	}
}

func testStoreListCompacted(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	comp := compactor(t, e.backend)
	e.createCM(configMap("ns", "a", "k", "v1"))
	old := e.rev()
	e.setData("a", "k", "v2")
	e.setData("a", "k", "v3")
	if err := comp.Compact(t.Context(), e.rev()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	for _, opts := range []storage.ListOptions{
		{ResourceVersion: rvString(old), ResourceVersionMatch: metav1.ResourceVersionMatchExact, Recursive: true},
		{ResourceVersion: rvString(old), Predicate: storage.Predicate{Limit: 5}, Recursive: true},
	} {
		_, err := e.listCMs("/registry/configmaps", opts)
		wantErr(t, fmt.Sprintf("GetList at compacted revision %s (match %q)", opts.ResourceVersion, opts.ResourceVersionMatch),
			err, storage.IsExpired, "IsExpired")
	}
}

// testStoreListSingleKey lists one key without Recursive: the key itself,
// never its neighbors.
func testStoreListSingleKey(t *testing.T, f Factory, c codec) {
	e := newStoreEnv(t, f, c)
	a := e.createCM(configMap("ns", "a"))
	e.createCM(configMap("ns", "a-b"))
	e.createCM(configMap("ns", "ab"))
	e.createCM(configMap("ns", "zz"))
	cur := rvString(e.rev())
	cases := []struct {
		name  string
		key   string
		field string
		want  []corev1.ConfigMap
	}{
		{name: "existing", key: cmKey("ns", "a"), want: []corev1.ConfigMap{*a}},
		{name: "missing with longer neighbor", key: cmKey("ns", "z")},
		{name: "field selector matches", key: cmKey("ns", "a"), field: "metadata.name=a", want: []corev1.ConfigMap{*a}},
		{name: "field selector does not match", key: cmKey("ns", "a"), field: "metadata.name=b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pred storage.Predicate
			if tc.field != "" {
				pred.Field = mustFields(t, tc.field)
			}
			list, err := e.listCMs(tc.key, storage.ListOptions{Predicate: pred})
			if err != nil {
				t.Fatalf("GetList: %v", err)
			}
			if diff := cmp.Diff(tc.want, list.Items, objOpts); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if list.ResourceVersion != cur || list.Continue != "" {
				t.Errorf("list metadata %+v, want resourceVersion %s and no continue", list.ListMeta, cur)
			}
		})
	}
}
