package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/storage"
)

// testStoreConcurrentUpdates: 64 goroutines each increment one counter N
// times through GuaranteedUpdate; no increment may be lost or doubled.
func testStoreConcurrentUpdates(t *testing.T, f Factory, c codec) {
	const workers, perWorker = 64, 20
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	e.createCM(configMap("ns", "counter", "n", "0"))
	before := e.rev()

	increment := func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		cm := in.(*corev1.ConfigMap).DeepCopy()
		n, err := strconv.Atoi(cm.Data["n"])
		if err != nil {
			return nil, nil, fmt.Errorf("counter holds %q: %w", cm.Data["n"], err)
		}
		cm.Data["n"] = strconv.Itoa(n + 1)
		return cm, nil, nil
	}
	var g errgroup.Group
	for w := range workers {
		g.Go(func() error {
			for i := range perWorker {
				if err := e.cms.GuaranteedUpdate(ctx, cmKey("ns", "counter"), &corev1.ConfigMap{}, false, nil, increment, nil); err != nil {
					return fmt.Errorf("worker %d, increment %d: %w", w, i, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := e.getCM("counter")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if want := strconv.Itoa(workers * perWorker); got.Data["n"] != want {
		t.Errorf("counter = %s, want %s", got.Data["n"], want)
	}
	if after := e.rev(); after != before+workers*perWorker {
		t.Errorf("revision went from %d to %d, want exactly one write per increment (%d)", before, after, workers*perWorker)
	}
}

// testStorePagesWhileWriting lists 500 objects 50 at a time while another
// goroutine keeps updating, deleting and creating them: the pages together
// must be exactly the list at the first page's revision.
func testStorePagesWhileWriting(t *testing.T, f Factory, c codec) {
	const objects, limit, span = 500, 50, 600
	e := newStoreEnv(t, f, c)
	ctx := t.Context()
	name := func(i int) string { return fmt.Sprintf("cm-%03d", i) }

	var g errgroup.Group
	g.SetLimit(16)
	for i := range objects {
		g.Go(func() error {
			return e.cms.Create(ctx, cmKey("pg", name(i)), configMap("pg", name(i), "v", "0"), nil, 0)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("create: %v", err)
	}

	// The writer owns keys cm-000 … cm-599 from here on.
	wctx, stop := context.WithCancel(ctx)
	var writes atomic.Int64
	progress := make(chan struct{}, 1)
	writer := errgroup.Group{}
	writer.Go(func() error {
		exists := make([]bool, span)
		for i := range objects {
			exists[i] = true
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for n := 0; wctx.Err() == nil; n++ {
			i := rng.IntN(span)
			key := cmKey("pg", name(i))
			var err error
			switch {
			case !exists[i]:
				err = e.cms.Create(wctx, key, configMap("pg", name(i), "v", strconv.Itoa(n)), nil, 0)
				exists[i] = err == nil
			case rng.IntN(3) == 0:
				err = e.cms.Delete(wctx, key, &corev1.ConfigMap{}, nil, nil, nil)
				exists[i] = err != nil
			default:
				var calls []updateCall
				err = e.cms.GuaranteedUpdate(wctx, key, &corev1.ConfigMap{}, false, nil, updater(&calls, setKey("v", strconv.Itoa(n))), nil)
			}
			if err != nil {
				if wctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("write %d to %s: %w", n, key, err)
			}
			writes.Add(1)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
		return nil
	})
	defer func() {
		stop()
		_ = writer.Wait() // reported below unless the test already failed
	}()

	var (
		items []corev1.ConfigMap
		pages []metav1.ListMeta
	)
	pred := storage.Predicate{Limit: limit}
	for {
		// Let the writer change something between any two pages.
		for seen := writes.Load(); writes.Load() < seen+3; {
			select {
			case <-progress:
			case <-waitAfter():
				t.Fatalf("writer made no progress in %v", waitTimeout)
			}
		}
		list, err := e.listCMs("/registry/configmaps/pg", storage.ListOptions{Predicate: pred, Recursive: true})
		if err != nil {
			t.Fatalf("GetList page %d: %v", len(pages), err)
		}
		items = append(items, list.Items...)
		pages = append(pages, list.ListMeta)
		if list.Continue == "" || len(pages) > objects {
			break
		}
		pred.Continue = list.Continue
	}
	stop()
	if err := writer.Wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	if writes.Load() < int64(len(pages))*3 {
		t.Fatalf("only %d writes during %d pages", writes.Load(), len(pages))
	}

	rv := pages[0].ResourceVersion
	for i, p := range pages {
		if p.ResourceVersion != rv {
			t.Errorf("page %d has resourceVersion %s, page 0 %s", i, p.ResourceVersion, rv)
		}
	}
	want, err := e.listCMs("/registry/configmaps/pg", storage.ListOptions{
		ResourceVersion: rv, ResourceVersionMatch: metav1.ResourceVersionMatchExact, Recursive: true,
	})
	if err != nil {
		t.Fatalf("GetList at %s: %v", rv, err)
	}
	if diff := cmp.Diff(want.Items, items, objOpts); diff != "" {
		t.Errorf("pages together differ from the list at resourceVersion %s (-want +got):\n%s", rv, diff)
	}
}
