package nft

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

// handles are the rule handles of each chain.
func handles(tab *proxytest.Table) map[string][]int {
	out := map[string][]int{}
	for name, rules := range tab.Chains {
		hs := []int{}
		for _, r := range rules {
			hs = append(hs, r.Handle)
		}
		out[name] = hs
	}
	return out
}

// checkMatches fails unless the kernel's table has as many chains and rules
// as the Syncer reports, and the Syncer's view is what a full render of st
// gives.
func (e *env) checkMatches(st *State, stats Stats) {
	e.t.Helper()
	tab := e.table()
	if len(tab.Chains) != stats.Chains || tab.Rules() != stats.Rules {
		e.t.Errorf("kernel has %d chains and %d rules, the Syncer reports %d and %d",
			len(tab.Chains), tab.Rules(), stats.Chains, stats.Rules)
	}
	want, err := Render(e.s.opts, st)
	if err != nil {
		e.t.Fatal(err)
	}
	if diff := cmp.Diff(want, e.s.Text()); diff != "" {
		e.t.Errorf("table after incremental syncs differs from a full render (-full +incremental):\n%s", diff)
	}
}

func TestIncrementalSyncTouchesOnlyWhatChanged(t *testing.T) {
	e := newEnv(t, 3, nil)
	st := state()
	for i := range 50 {
		name := fmt.Sprintf("svc%02d", i)
		st.Services["default/"+name] = service(name, fmt.Sprintf("10.43.1.%d", i+1), tcp("http", 80, backend(0), backend(1)))
	}
	sticky := service("sticky", "10.43.2.1", tcp("http", 80, backend(0), backend(1)))
	sticky.AffinityTimeout = time.Minute
	sticky.Ports[0].NodePort = 30080
	st.Services["default/sticky"] = sticky
	full := e.sync(st)
	if !full.Full {
		t.Errorf("first sync: %+v, want a full one", full)
	}
	e.checkMatches(st, full)
	before := handles(e.table())

	// One Service's endpoint is replaced: two elements of the endpoint
	// map change and the new address joins the hairpin set; no rule.
	next := &State{Services: maps.Clone(st.Services)}
	next.Services["default/svc07"] = service("svc07", "10.43.1.8", tcp("http", 80, backend(0), backend(2)))
	stats := e.sync(next)
	if stats.Full || stats.Services != 1 || stats.Messages != 3 || stats.RulesWritten != 0 {
		t.Errorf("sync after one endpoint replaced: %+v, want 1 Service, 3 messages, no rule", stats)
	}
	if after := handles(e.table()); !maps.EqualFunc(before, after, slices.Equal) {
		t.Errorf("rules changed, want none:\nbefore %v\nafter  %v", before, after)
	}
	e.checkMatches(next, stats)
	got := e.dial(e.topo.Client, "10.43.1.8:80", 30)
	if want := []string{from(0, proxytest.ClientIP), from(2, proxytest.ClientIP)}; !cmp.Equal(slices.Sorted(maps.Keys(got)), want) {
		t.Errorf("answers of the changed Service: %v, want each of %v", got, want)
	}

	// Another one loses an endpoint: its chain is rewritten (a single
	// endpoint needs no map), nothing else.
	next.Services["default/svc08"] = service("svc08", "10.43.1.9", tcp("http", 80, backend(0)))
	stats = e.sync(next)
	if stats.Full || stats.Services != 1 || stats.ChainsFlushed != 1 || stats.RulesWritten != 2 {
		t.Errorf("sync after one endpoint removed: %+v, want 1 Service and 1 chain of 2 rules rewritten", stats)
	}
	after := handles(e.table())
	changed := "svc-default/svc08/tcp/http"
	for name, hs := range before {
		if name == changed {
			if slices.Equal(hs, after[name]) {
				t.Errorf("chain %s kept its rules %v, want them rewritten", name, hs)
			}
		} else if !slices.Equal(hs, after[name]) {
			t.Errorf("chain %s: rule handles %v became %v, want it untouched", name, hs, after[name])
		}
	}
	e.checkMatches(next, stats)
	if got, want := e.dial(e.topo.Client, "10.43.1.9:80", 10), map[string]int{from(0, proxytest.ClientIP): 10}; !maps.Equal(got, want) {
		t.Errorf("answers of the changed Service: %v, want %v", got, want)
	}

	// A Service goes, one comes, the sticky one changes its timeout, and
	// the last Service using backend 1 does not exist any more.
	third := &State{Services: map[string]*Service{}}
	third.Services["default/new"] = service("new", "10.43.3.1", tcp("http", 80, backend(1)))
	sticky2 := *sticky
	sticky2.AffinityTimeout = 2 * time.Minute
	third.Services["default/sticky"] = &sticky2
	third.Services["default/svc07"] = next.Services["default/svc07"]
	third.Services["default/svc08"] = service("svc08", "10.43.1.9", tcp("http", 80, backend(0), backend(1), backend(2)))
	stats = e.sync(third)
	if stats.Full || stats.Services != 51 {
		t.Errorf("third sync: %+v, want an incremental one of 51 Services", stats)
	}
	if got := e.dial(e.topo.Client, "10.43.1.9:80", 40); len(got) != 3 {
		t.Errorf("answers of the Service that grew to three endpoints: %v, want all three", got)
	}
	e.checkMatches(third, stats)
	if got, want := e.dial(e.topo.Client, "10.43.3.1:80", 1), map[string]int{from(1, proxytest.ClientIP): 1}; !maps.Equal(got, want) {
		t.Errorf("answers of the new Service: %v, want %v", got, want)
	}
	if r := e.topo.Client.DialOne(t, "tcp", "10.43.1.1:80", 2*time.Second); r.Err != "refused" {
		t.Errorf("a deleted Service's address: %v, want refused", r)
	}
	if got := e.dial(e.topo.Outside, proxytest.NodeIP.String()+":30080", 5); len(got) != 1 {
		t.Errorf("the sticky Service after its timeout changed: %v, want one endpoint", got)
	}

	// Nothing changed: nothing sent.
	if stats := e.sync(third); stats.Messages != 0 {
		t.Errorf("sync of the same State: %+v, want no messages", stats)
	}
}

func TestSyncRebuildsAfterAFailedTransaction(t *testing.T) {
	e := newEnv(t, 2, nil)
	web := service("web", "10.43.0.10", tcp("http", 80, backend(0)))
	e.sync(state(web))

	// Someone removes the table: the next incremental transaction cannot
	// apply, and the kernel is left as it was.
	e.topo.Node.MustExec(t, "nft", "delete", "table", "ip", DefaultTable)
	st := state(web, service("api", "10.43.0.11", tcp("http", 80, backend(1))))
	if _, err := e.s.Sync(context.Background(), st); err == nil {
		t.Fatal("Sync into a missing table succeeded")
	}
	stats := e.sync(st)
	if !stats.Full {
		t.Errorf("sync after a failure: %+v, want a full one", stats)
	}
	e.checkMatches(st, stats)
	for addr, want := range map[string]string{"10.43.0.10:80": from(0, proxytest.ClientIP), "10.43.0.11:80": from(1, proxytest.ClientIP)} {
		if got := e.dial(e.topo.Client, addr, 1); got[want] != 1 {
			t.Errorf("%s: %v, want %s", addr, got, want)
		}
	}
}

func TestTwoServicesClaimingOneAddressAndPort(t *testing.T) {
	e := newEnv(t, 2, nil)
	a := service("a", "10.43.0.10", tcp("http", 80, backend(0)))
	b := service("b", "10.43.0.10", tcp("http", 80, backend(1)))
	e.sync(state(b, a))
	// The key that sorts first wins, whatever the map order.
	if got, want := e.dial(e.topo.Client, "10.43.0.10:80", 3), map[string]int{from(0, proxytest.ClientIP): 3}; !maps.Equal(got, want) {
		t.Errorf("both Services: %v, want %v", got, want)
	}
	stats := e.sync(state(b))
	e.checkMatches(state(b), stats)
	if got, want := e.dial(e.topo.Client, "10.43.0.10:80", 3), map[string]int{from(1, proxytest.ClientIP): 3}; !maps.Equal(got, want) {
		t.Errorf("after the winner went: %v, want %v", got, want)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, 1, nil)
	st := state(service("web", "10.43.0.10", tcp("http", 80, backend(0))))
	e.sync(st)
	if err := e.s.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tab := e.topo.Node.ListTable(t, DefaultTable); tab != nil {
		t.Errorf("table still there after Delete: %d chains", len(tab.Chains))
	}
	if stats := e.sync(st); !stats.Full {
		t.Errorf("sync after Delete: %+v, want a full one", stats)
	}
	if r := e.topo.Client.DialOne(t, "tcp", "10.43.0.10:80", 2*time.Second); r.Err != "" {
		t.Errorf("after the rebuild: %v", r)
	}
}
