package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// concurrencies are the writer counts of the create and update rows.
var concurrencies = []int{1, 8, 64}

// getReaders is the reader count of the get row.
const getReaders = 8

// settle is how long the harness waits after a bulk load, so background
// work (applying logged writes, etcd's backend commit) does not spill into
// the next measurement.
const settle = 2 * time.Second

// measurements are the figures of one target.
type measurements struct {
	create, update map[int]float64       // ops/s by writer count
	get            float64               // ops/s
	list           map[int]time.Duration // median full range by key count
	loadRate       float64               // creates/s loading the largest list, 64 writers
	createLatency  benchkit.Latencies
	fsync          benchkit.Latencies
	watch          watchResult
	memBefore      memSample
	memAfter       memSample
	storeCreate    float64       // ConfigMaps created/s through storage.Store, 64 writers
	storeList      time.Duration // median list of them, decoded
}

// measure runs every measurement against t; logf reports progress.
func measure(ctx context.Context, o *Options, t *target, logf func(string, ...any)) (*measurements, error) {
	m := &measurements{create: map[int]float64{}, update: map[int]float64{}, list: map[int]time.Duration{}}
	be := t.backend
	step := func(name string) { logf("%s: %s", t.name, name) }

	// Memory first, on a fresh store: the largest list load.
	biggest := o.listSizes[len(o.listSizes)-1]
	var err error
	if m.memBefore, err = sampleMemory(t.pid); err != nil {
		return nil, err
	}
	step(fmt.Sprintf("loading %d keys", biggest))
	res, err := load(ctx, be, listPrefix(biggest), biggest)
	if err != nil {
		return nil, fmt.Errorf("load %d: %w", biggest, err)
	}
	m.loadRate = res.Rate()
	time.Sleep(settle)
	if m.memAfter, err = sampleMemory(t.pid); err != nil {
		return nil, err
	}
	for _, n := range o.listSizes[:len(o.listSizes)-1] {
		step(fmt.Sprintf("loading %d keys", n))
		if _, err := load(ctx, be, listPrefix(n), n); err != nil {
			return nil, fmt.Errorf("load %d: %w", n, err)
		}
	}
	time.Sleep(settle)

	for i, n := range o.listSizes {
		step(fmt.Sprintf("list %d", n))
		if m.list[n], err = listMedian(ctx, be, listPrefix(n), n, o.listRuns[i]); err != nil {
			return nil, err
		}
	}
	step("get")
	smallest := o.listSizes[0]
	if res, err = getLoad(ctx, be, listPrefix(smallest), smallest, getReaders, benchkit.Limit{Duration: o.Duration}); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	m.get = res.Rate()

	for _, c := range concurrencies {
		step("create, " + writers(c))
		if res, err = createLoad(ctx, be, fmt.Sprintf("/bench/create/%d/", c), c, benchkit.Limit{Duration: o.Duration}); err != nil {
			return nil, fmt.Errorf("create, %s: %w", writers(c), err)
		}
		m.create[c] = res.Rate()
	}
	for _, c := range concurrencies {
		step("update, " + writers(c))
		prefix := fmt.Sprintf("/bench/update/%d/", c)
		revs, err := createUpdateKeys(ctx, be, prefix, c)
		if err == nil {
			res, err = updateLoad(ctx, be, prefix, revs, benchkit.Limit{Duration: o.Duration})
		}
		if err != nil {
			return nil, fmt.Errorf("update, %s: %w", writers(c), err)
		}
		m.update[c] = res.Rate()
	}

	step("latency")
	if m.fsync, err = fsyncLatency(t.dir, o.latencyOps); err != nil {
		return nil, err
	}
	if m.createLatency, err = createLatency(ctx, be, "/bench/latency/", o.latencyOps); err != nil {
		return nil, fmt.Errorf("create latency: %w", err)
	}

	step(fmt.Sprintf("watch, %d watchers, %d writes/s", o.Watchers, o.WatchRate))
	if m.watch, err = watchLatency(ctx, be, "/bench/watch/", o.Watchers, o.WatchRate, o.WatchDuration); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}

	if o.Store {
		if err := measureStore(ctx, t, biggest, m, step); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// measureStore fills the object-level rows.
func measureStore(ctx context.Context, t *target, n int, m *measurements, step func(string)) error {
	st, err := newConfigMapStore(t.backend)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("store: create %d configmaps", n))
	res, err := storeCreateLoad(ctx, st, n)
	if err != nil {
		return fmt.Errorf("store create: %w", err)
	}
	m.storeCreate = res.Rate()
	time.Sleep(settle)
	step(fmt.Sprintf("store: list %d configmaps", n))
	if m.storeList, err = storeListMedian(ctx, st, n, 3); err != nil {
		return fmt.Errorf("store list: %w", err)
	}
	return nil
}

func listPrefix(n int) string { return fmt.Sprintf("/bench/list/%d/", n) }
