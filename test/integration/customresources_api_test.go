package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestCustomResourceVersions checks upstream's None conversion: an object
// stored as v1 reads as v2 with only apiVersion changed, and a write
// through v2 reads back through v1.
func TestCustomResourceVersions(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	v1, v2 := s.dyn.Resource(widgetsV1).Namespace("default"), s.dyn.Resource(widgetsV2).Namespace("default")
	created, err := v1.Create(ctx, widget("default", "w", "red", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	asV2, err := v2.Get(ctx, "w", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if asV2.GetAPIVersion() != "example.com/v2" || asV2.GetKind() != "Widget" || asV2.GetUID() != created.GetUID() || nested[string](t, asV2, "spec", "color") != "red" {
		t.Fatalf("read as v2: %v", asV2.Object)
	}
	unstructured.RemoveNestedField(asV2.Object, "spec", "color")
	if err := unstructured.SetNestedField(asV2.Object, "blue", "spec", "color"); err != nil {
		t.Fatal(err)
	}
	updated, err := v2.Update(ctx, asV2, metav1.UpdateOptions{})
	if err != nil || updated.GetAPIVersion() != "example.com/v2" {
		t.Fatalf("update through v2: %v %v", updated, err)
	}
	back, err := v1.Get(ctx, "w", metav1.GetOptions{})
	if err != nil || back.GetAPIVersion() != "example.com/v1" || nested[string](t, back, "spec", "color") != "blue" || back.GetGeneration() != 2 {
		t.Fatalf("read back through v1: %v %v", back, err)
	}
	viaV2 := widget("default", "made-as-v2", "green", 2)
	viaV2.SetAPIVersion("example.com/v2")
	if _, err := v2.Create(ctx, viaV2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := v2.List(ctx, metav1.ListOptions{})
	if err != nil || list.GetAPIVersion() != "example.com/v2" || list.GetKind() != "WidgetList" || len(list.Items) != 2 {
		t.Fatalf("list through v2: %v %v", list, err)
	}
	for _, item := range list.Items {
		if item.GetAPIVersion() != "example.com/v2" {
			t.Errorf("item %s of the v2 list has apiVersion %s", item.GetName(), item.GetAPIVersion())
		}
	}
	if got, err := v1.Get(ctx, "made-as-v2", metav1.GetOptions{}); err != nil || got.GetAPIVersion() != "example.com/v1" {
		t.Fatalf("v2-created object through v1: %v %v", got, err)
	}
}

// TestCustomResourceStatusAndGeneration checks the status subresource and
// metadata.generation as upstream's custom resource strategies keep them.
func TestCustomResourceStatusAndGeneration(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	s.applyCRD(t, gadgetCRD, "gadgets.example.com")
	widgets := s.dyn.Resource(widgetsV1).Namespace("default")
	w := widget("default", "w", "red", 1)
	w.Object["status"] = map[string]any{"replicas": int64(7)}
	w, err := widgets.Create(ctx, w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, has := w.Object["status"]; has || w.GetGeneration() != 1 {
		t.Fatalf("create kept status %v or generation %d != 1", w.Object["status"], w.GetGeneration())
	}
	step := func(what string, wantGen int64, change func(*unstructured.Unstructured), write func(*unstructured.Unstructured) (*unstructured.Unstructured, error)) {
		t.Helper()
		next := w.DeepCopy()
		change(next)
		got, err := write(next)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.GetGeneration() != wantGen {
			t.Errorf("%s: generation %d, want %d", what, got.GetGeneration(), wantGen)
		}
		w = got
	}
	update := func(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return widgets.Update(ctx, u, metav1.UpdateOptions{})
	}
	updateStatus := func(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return widgets.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	}
	step("status through the main resource", 1, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"replicas": int64(9)}
	}, update)
	if _, has := w.Object["status"]; has {
		t.Errorf("the main resource wrote status %v", w.Object["status"])
	}
	step("spec change", 2, func(u *unstructured.Unstructured) { u.Object["spec"].(map[string]any)["color"] = "blue" }, update)
	step("label only", 2, func(u *unstructured.Unstructured) { u.SetLabels(map[string]string{"app": "w"}) }, update)
	step("status write", 2, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"replicas": int64(2), "selector": "app=w"}
		u.Object["spec"].(map[string]any)["color"] = "green"
		u.SetLabels(map[string]string{"app": "w", "via": "status"})
	}, updateStatus)
	if nested[int64](t, w, "status", "replicas") != 2 || nested[string](t, w, "spec", "color") != "blue" {
		t.Errorf("after the status write: %v", w.Object)
	}
	// Upstream's status strategy keeps everything of the old object but
	// status and managedFields.
	if w.GetLabels()["via"] != "" {
		t.Errorf("a status write changed labels: %v", w.GetLabels())
	}
	patched, err := widgets.Patch(ctx, "w", types.MergePatchType, []byte(`{"spec":{"color":"red"},"status":{"replicas":3}}`), metav1.PatchOptions{}, "status")
	if err != nil || nested[int64](t, patched, "status", "replicas") != 3 || nested[string](t, patched, "spec", "color") != "blue" || patched.GetGeneration() != 2 {
		t.Fatalf("status patch: %v %v", patched, err)
	}

	// Without a status subresource, status is part of the object and any
	// change but metadata bumps the generation.
	gadgets := s.dyn.Resource(gadgetsV1)
	g, err := gadgets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g"},
		"spec": map[string]any{"size": int64(1)}, "status": map[string]any{"phase": "new"},
	}}, metav1.CreateOptions{})
	if err != nil || nested[string](t, g, "status", "phase") != "new" || g.GetGeneration() != 1 {
		t.Fatalf("gadget create: %v %v", g, err)
	}
	w = g
	updateGadget := func(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return gadgets.Update(ctx, u, metav1.UpdateOptions{})
	}
	step("gadget status", 2, func(u *unstructured.Unstructured) { u.Object["status"] = map[string]any{"phase": "old"} }, updateGadget)
	step("gadget label", 2, func(u *unstructured.Unstructured) { u.SetLabels(map[string]string{"a": "b"}) }, updateGadget)
	step("gadget new top-level field", 3, func(u *unstructured.Unstructured) { u.Object["data"] = "x" }, updateGadget)
	if _, err := gadgets.UpdateStatus(ctx, w, metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("status of a CRD without the subresource: %v, want NotFound", err)
	}
}

// TestCustomResourceScale checks the scale subresource at the CRD's paths.
func TestCustomResourceScale(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	widgets := s.dyn.Resource(widgetsV1).Namespace("default")
	w, err := widgets.Create(ctx, widget("default", "w", "red", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Object["status"] = map[string]any{"replicas": int64(2), "selector": "app=w"}
	if _, err := widgets.UpdateStatus(ctx, w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := testutil.Kubectl(t, "1.33")
	// The preferred version, v2, has no scale subresource: name v1.
	contains(t, s.kubectl(t, k, "", "scale", "widgets.v1.example.com/w", "--replicas=4"), "widget.example.com/w scaled")
	got, err := widgets.Get(ctx, "w", metav1.GetOptions{})
	if err != nil || nested[int64](t, got, "spec", "replicas") != 4 {
		t.Fatalf("after kubectl scale: %v %v", got, err)
	}
	readScale := func(data []byte) autoscalingv1.Scale {
		t.Helper()
		var scale autoscalingv1.Scale
		if err := json.Unmarshal(data, &scale); err != nil {
			t.Fatalf("not a Scale: %s", data)
		}
		return scale
	}
	const path = "/apis/example.com/v1/namespaces/default/widgets/w/scale"
	code, _, data := s.rawRequest(t, http.MethodGet, path, "application/json", "", "")
	scale := readScale(data)
	if code != http.StatusOK || scale.APIVersion != "autoscaling/v1" || scale.Kind != "Scale" || scale.Name != "w" || scale.Namespace != "default" ||
		scale.Spec.Replicas != 4 || scale.Status.Replicas != 2 || scale.Status.Selector != "app=w" || scale.UID != got.GetUID() {
		t.Fatalf("GET scale: %d %s", code, data)
	}
	scale.Spec.Replicas = 6
	body, err := json.Marshal(scale)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, data := s.rawRequest(t, http.MethodPut, path, "application/json", "application/json", string(body)); code != http.StatusOK || readScale(data).Spec.Replicas != 6 {
		t.Fatalf("PUT scale: %d %s", code, data)
	}
	if code, _, data := s.rawRequest(t, http.MethodPatch, path, "application/json", "application/merge-patch+json", `{"spec":{"replicas":5}}`); code != http.StatusOK ||
		readScale(data).Spec.Replicas != 5 {
		t.Fatalf("PATCH scale: %d %s", code, data)
	}
	if out := s.kubectl(t, k, "", "get", "widgets.v1.example.com", "w", "-o", "jsonpath={.spec.replicas}/{.status.replicas}"); out != "5/2" {
		t.Errorf("replicas after the scale writes %q, want 5/2", out)
	}
	if code, _, data := s.rawRequest(t, http.MethodGet, "/apis/example.com/v2/namespaces/default/widgets/w/scale", "application/json", "", ""); code != http.StatusNotFound {
		t.Errorf("scale of v2, which has none: %d %s", code, data)
	}
}

// TestCustomResourceInformer checks a dynamic informer with watch-list
// (sendInitialEvents) on and off.
func TestCustomResourceInformer(t *testing.T) {
	s := startCRDServer(t)
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	for _, watchList := range []bool{false, true} {
		name := map[bool]string{false: "list-then-watch", true: "watch-list"}[watchList]
		t.Run(name, func(t *testing.T) {
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, watchList)
			ctx := context.Background()
			ns := name
			if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			widgets := s.dyn.Resource(widgetsV1).Namespace(ns)
			if _, err := widgets.Create(ctx, widget(ns, "before", "red", 1), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var requests []string
			cfg := rest.CopyConfig(s.Config)
			cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
				return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
					mu.Lock()
					requests = append(requests, r.URL.RawQuery)
					mu.Unlock()
					return rt.RoundTrip(r)
				})
			})
			factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dynamic.NewForConfigOrDie(cfg), 0, ns, nil)
			stop := make(chan struct{})
			defer func() {
				close(stop)
				factory.Shutdown()
			}()
			informer := factory.ForResource(widgetsV1).Informer()
			events := make(chan string, 100)
			describe := func(verb string, obj any) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				u := obj.(*unstructured.Unstructured)
				color, _, _ := unstructured.NestedString(u.Object, "spec", "color")
				events <- verb + " " + u.GetName() + " " + color
			}
			if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(obj any) { describe("add", obj) },
				UpdateFunc: func(_, obj any) { describe("update", obj) },
				DeleteFunc: func(obj any) { describe("delete", obj) },
			}); err != nil {
				t.Fatal(err)
			}
			factory.Start(stop)
			if !cache.WaitForCacheSync(stop, informer.HasSynced) {
				t.Fatal("informer did not sync")
			}
			expectEvent := func(want string) {
				t.Helper()
				select {
				case got := <-events:
					if got != want {
						t.Fatalf("event %q, want %q", got, want)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("no event %q", want)
				}
			}
			expectEvent("add before red")
			after, err := widgets.Create(ctx, widget(ns, "after", "red", 1), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			expectEvent("add after red")
			after.Object["spec"].(map[string]any)["color"] = "blue"
			if _, err := widgets.Update(ctx, after, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			expectEvent("update after blue")
			if err := widgets.Delete(ctx, "after", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			expectEvent("delete after blue")

			mu.Lock()
			seen := slices.Clone(requests)
			mu.Unlock()
			var lists, initialEvents int
			for _, q := range seen {
				if !strings.Contains(q, "watch=true") {
					lists++
				}
				if strings.Contains(q, "sendInitialEvents=true") {
					initialEvents++
				}
			}
			if watchList && (lists != 0 || initialEvents == 0) {
				t.Errorf("watch-list informer: %d lists, %d watches with initial events, want 0 and some: %q", lists, initialEvents, seen)
			}
			if !watchList && (lists == 0 || initialEvents != 0) {
				t.Errorf("list-then-watch informer: %d lists, %d watches with initial events, want some and 0: %q", lists, initialEvents, seen)
			}
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCustomResourceDynamicClient drives custom resources with client-go's
// dynamic client: CRUD, selectors, pages, watches and server-side apply.
func TestCustomResourceDynamicClient(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	widgets := s.dyn.Resource(widgetsV1).Namespace("default")
	for name, app := range map[string]string{"a": "x", "b": "y", "c": "x"} {
		w := widget("default", name, "red", 1)
		w.SetLabels(map[string]string{"app": app})
		if _, err := widgets.Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := widgets.Create(ctx, widget("default", "a", "red", 1), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v, want AlreadyExists", err)
	}
	if _, err := widgets.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get missing: %v, want NotFound", err)
	}
	names := func(opts metav1.ListOptions) []string {
		t.Helper()
		list, err := widgets.List(ctx, opts)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		var out []string
		for _, item := range list.Items {
			out = append(out, item.GetName())
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		opts metav1.ListOptions
		want []string
	}{
		{metav1.ListOptions{LabelSelector: "app=x"}, []string{"a", "c"}},
		{metav1.ListOptions{LabelSelector: "app!=x"}, []string{"b"}},
		{metav1.ListOptions{FieldSelector: "metadata.name=b"}, []string{"b"}},
		{metav1.ListOptions{FieldSelector: "metadata.name!=b", LabelSelector: "app=x"}, []string{"a", "c"}},
		{metav1.ListOptions{FieldSelector: "metadata.namespace=default"}, []string{"a", "b", "c"}},
	} {
		if got := names(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("list %+v: %v, want %v", tc.opts, got, tc.want)
		}
	}
	if _, err := widgets.List(ctx, metav1.ListOptions{FieldSelector: "spec.color=red"}); !apierrors.IsBadRequest(err) {
		t.Errorf("field selector on spec.color: %v, want BadRequest", err)
	}
	page, err := widgets.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.GetContinue() == "" {
		t.Fatalf("first page: %v %v", page, err)
	}
	rest2, err := widgets.List(ctx, metav1.ListOptions{Limit: 2, Continue: page.GetContinue()})
	if err != nil || len(rest2.Items) != 1 || rest2.Items[0].GetName() != "c" {
		t.Fatalf("second page: %v %v", rest2, err)
	}

	byLabel, err := widgets.Watch(ctx, metav1.ListOptions{LabelSelector: "app=x", ResourceVersion: page.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer byLabel.Stop()
	byName, err := widgets.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=a", ResourceVersion: page.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer byName.Stop()
	for _, name := range []string{"b", "c"} {
		if _, err := widgets.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"color":"blue"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := widgets.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	nextEvent := func(w watch.Interface, wantType watch.EventType, wantName string) {
		t.Helper()
		select {
		case ev := <-w.ResultChan():
			u, ok := ev.Object.(*unstructured.Unstructured)
			if ev.Type != wantType || !ok || u.GetName() != wantName || u.GetAPIVersion() != "example.com/v1" {
				t.Fatalf("watch event %s %v, want %s of %s", ev.Type, ev.Object, wantType, wantName)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s event for %s", wantType, wantName)
		}
	}
	nextEvent(byLabel, watch.Modified, "c")
	nextEvent(byLabel, watch.Deleted, "a")
	nextEvent(byName, watch.Deleted, "a")

	// Custom resources have no strategic merge patch: 415.
	_, err = widgets.Patch(ctx, "c", types.StrategicMergePatchType, []byte(`{"spec":{"color":"red"}}`), metav1.PatchOptions{})
	if !apierrors.IsUnsupportedMediaType(err) {
		t.Errorf("strategic merge patch: %v, want 415 UnsupportedMediaType", err)
	}

	// A stale resourceVersion conflicts.
	c, err := widgets.Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh := c.DeepCopy()
	fresh.SetAnnotations(map[string]string{"touched": "yes"})
	if _, err := widgets.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.SetLabels(map[string]string{"app": "z"})
	if _, err := widgets.Update(ctx, c, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v, want Conflict", err)
	}

	// Server-side apply: a second manager conflicts (409) unless forced.
	apply := func(manager, color string, force bool) (*unstructured.Unstructured, error) {
		body := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"ssa"},"spec":{"color":"` + color + `"}}`
		return widgets.Patch(ctx, "ssa", types.ApplyPatchType, []byte(body), metav1.PatchOptions{FieldManager: manager, Force: &force})
	}
	if _, err := apply("first", "red", false); err != nil {
		t.Fatal(err)
	}
	_, err = apply("second", "blue", false)
	var status apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &status) || status.Status().Code != http.StatusConflict ||
		!strings.Contains(err.Error(), `conflict with "first": .spec.color`) {
		t.Fatalf("conflicting apply: %v, want 409 naming .spec.color", err)
	}
	forced, err := apply("second", "blue", true)
	if err != nil || nested[string](t, forced, "spec", "color") != "blue" {
		t.Fatalf("forced apply: %v %v", forced, err)
	}
	var managers []string
	for _, mf := range forced.GetManagedFields() {
		managers = append(managers, mf.Manager+"/"+string(mf.Operation))
	}
	if !slices.Contains(managers, "second/Apply") {
		t.Errorf("managers %v lack second/Apply", managers)
	}
	if err := widgets.Delete(ctx, "ssa", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := widgets.Get(ctx, "ssa", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
}

// warningRecorder keeps the warnings a client receives.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.warnings
	w.warnings = nil
	return out
}

// TestCustomResourceSchema checks validation, pruning and defaulting
// against the CRD's openAPIV3Schema.
func TestCustomResourceSchema(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	recorder := &warningRecorder{}
	cfg := rest.CopyConfig(s.Config)
	cfg.WarningHandler = recorder
	widgets := dynamic.NewForConfigOrDie(cfg).Resource(widgetsV1).Namespace("default")
	withSpec := func(name string, spec map[string]any) *unstructured.Unstructured {
		w := widget("default", name, "", 0)
		w.Object["spec"] = spec
		return w
	}

	for _, tc := range []struct {
		name  string
		spec  map[string]any
		field string
		msg   string
	}{
		{"wrong type", map[string]any{"color": "red", "replicas": "three"}, "spec.replicas", `spec.replicas in body must be of type integer: "string"`},
		{"missing required", map[string]any{"replicas": int64(1)}, "spec.color", "spec.color: Required value"},
		{"enum", map[string]any{"color": "purple"}, "spec.color", `spec.color: Unsupported value: "purple": supported values: "red", "green", "blue"`},
	} {
		_, err := widgets.Create(ctx, withSpec("invalid", tc.spec), metav1.CreateOptions{})
		var status apierrors.APIStatus
		if !apierrors.IsInvalid(err) || !errors.As(err, &status) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want 422 with %q", tc.name, err, tc.msg)
			continue
		}
		if d := status.Status().Details; d == nil || !slices.ContainsFunc(d.Causes, func(c metav1.StatusCause) bool { return c.Field == tc.field }) {
			t.Errorf("%s: causes %+v lack field %s", tc.name, status.Status().Details, tc.field)
		}
	}

	// Defaults, on create and on read.
	created, err := widgets.Create(ctx, withSpec("defaulted", map[string]any{"color": "red"}), metav1.CreateOptions{})
	if err != nil || nested[int64](t, created, "spec", "size") != 3 {
		t.Fatalf("create with a default: %v %v", created, err)
	}
	if got, err := widgets.Get(ctx, "defaulted", metav1.GetOptions{}); err != nil || nested[int64](t, got, "spec", "size") != 3 {
		t.Fatalf("read with a default: %v %v", got, err)
	}
	created.Object["spec"].(map[string]any)["color"] = "purple"
	if _, err := widgets.Update(ctx, created, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.color") {
		t.Errorf("invalid update: %v, want 422 naming spec.color", err)
	}

	// Unknown fields: pruned with a warning by default, refused under
	// Strict, pruned silently under Ignore; preserved where the schema
	// says so.
	recorder.take()
	unknown := map[string]any{"color": "red", "foo": "bar", "extra": map[string]any{"kept": map[string]any{"deep": int64(1)}}}
	pruned, err := widgets.Create(ctx, withSpec("pruned", unknown), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, has := pruned.Object["spec"].(map[string]any)["foo"]; has || nested[int64](t, pruned, "spec", "extra", "kept", "deep") != 1 {
		t.Errorf("pruned object %v, want spec.foo dropped and spec.extra kept", pruned.Object["spec"])
	}
	if w := recorder.take(); !slices.Contains(w, `unknown field "spec.foo"`) {
		t.Errorf("warnings %q, want unknown field \"spec.foo\"", w)
	}
	_, err = widgets.Create(ctx, withSpec("strict", unknown), metav1.CreateOptions{FieldValidation: "Strict"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `strict decoding error: unknown field "spec.foo"`) {
		t.Errorf("strict create: %v, want 400 naming spec.foo", err)
	}
	if _, err := widgets.Create(ctx, withSpec("ignored", unknown), metav1.CreateOptions{FieldValidation: "Ignore"}); err != nil {
		t.Fatal(err)
	}
	if w := recorder.take(); len(w) != 0 {
		t.Errorf("warnings under Ignore: %q", w)
	}

	k := testutil.Kubectl(t, "1.33")
	manifest := func(name string) string {
		return "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: " + name + "\nspec:\n  color: red\n  foo: bar\n"
	}
	contains(t, s.kubectl(t, k, manifest("k-ignore"), "apply", "--validate=false", "-f", "-"), "widget.example.com/k-ignore created")
	if out := s.kubectl(t, k, "", "get", "widgets.v1.example.com", "k-ignore", "-o", "jsonpath={.spec}"); out != `{"color":"red","size":3}` {
		t.Errorf("spec after apply --validate=false: %s", out)
	}
	contains(t, s.kubectl(t, k, manifest("k-warn"), "apply", "--validate=warn", "-f", "-"),
		`Warning: unknown field "spec.foo"`, "widget.example.com/k-warn created")
	for _, flag := range []string{"--validate=strict", "--validate=true"} {
		contains(t, s.kubectlFails(t, k, manifest("k-strict"), "apply", flag, "-f", "-"), `strict decoding error: unknown field "spec.foo"`)
	}
	contains(t, s.kubectlFails(t, k, "", "get", "widgets.v1.example.com", "k-strict"), "NotFound")
}

// TestCustomResourcePrinterColumns checks that kubectl get shows a
// version's additionalPrinterColumns, the priority ones with -o wide.
func TestCustomResourcePrinterColumns(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	w := widget("default", "w", "green", 2)
	w.Object["spec"].(map[string]any)["size"] = int64(5)
	if _, err := s.dyn.Resource(widgetsV1).Namespace("default").Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := testutil.Kubectl(t, "1.33")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"widgets.v1.example.com"}, `(?s)^NAME\s+COLOR\s+REPLICAS\s+AGE\nw\s+green\s+2\s+\d+s\n$`},
		{[]string{"widgets.v1.example.com", "-o", "wide"}, `(?s)^NAME\s+COLOR\s+REPLICAS\s+SIZE\s+AGE\nw\s+green\s+2\s+5\s+\d+s\n$`},
		// v2 declares no columns: the default Age.
		{[]string{"wd"}, `(?s)^NAME\s+AGE\nw\s+\d+s\n$`},
	} {
		out, err := s.RunKubectlStdout(t, k, "", append([]string{"get"}, tc.args...)...)
		if err != nil || !regexp.MustCompile(tc.want).MatchString(out) {
			t.Errorf("kubectl get %s: %v\n%s\nwant %s", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}
