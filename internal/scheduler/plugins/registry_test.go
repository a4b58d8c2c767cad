package plugins

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// TestDefaultProfileUsesEveryExtensionPoint checks that every registered
// plugin is built, and runs at exactly the extension points it
// implements: a plugin whose Filter reads state its PreFilter wrote must
// not lose the PreFilter.
func TestDefaultProfileUsesEveryExtensionPoint(t *testing.T) {
	client := fake.NewClientset()
	profile := DefaultProfile()
	f, err := runtime.New(context.Background(), runtime.Config{
		Registry: Registry(), Profile: profile, Client: client,
		InformerFactory: informers.NewSharedInformerFactory(client, 0), Snapshot: cache.NewSnapshot(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var scoreNames []string
	for _, s := range profile.Score {
		scoreNames = append(scoreNames, s.Name)
	}
	for name := range Registry() {
		p, ok := f.Plugin(name)
		if !ok {
			t.Errorf("registered plugin %s is not in the default profile", name)
			continue
		}
		if p.Name() != name {
			t.Errorf("plugin registered as %s calls itself %s", name, p.Name())
		}
		for _, point := range []struct {
			name       string
			implements bool
			listed     []string
		}{
			{"PreFilter", is[framework.PreFilterPlugin](p), profile.PreFilter},
			{"Filter", is[framework.FilterPlugin](p), profile.Filter},
			{"PostFilter", is[framework.PostFilterPlugin](p), profile.PostFilter},
			{"PreScore", is[framework.PreScorePlugin](p), profile.PreScore},
			{"Score", is[framework.ScorePlugin](p), scoreNames},
			{"Reserve", is[framework.ReservePlugin](p), profile.Reserve},
			{"Permit", is[framework.PermitPlugin](p), profile.Permit},
			{"Bind", is[framework.BindPlugin](p), profile.Bind},
		} {
			if listed := slices.Contains(point.listed, name); listed != point.implements {
				t.Errorf("%s: implements %s=%v but listed there=%v", name, point.name, point.implements, listed)
			}
		}
	}
}

func is[T any](p framework.Plugin) bool {
	_, ok := p.(T)
	return ok
}

func TestDefaultScoreWeights(t *testing.T) {
	got := map[string]int64{}
	for _, s := range DefaultProfile().Score {
		got[s.Name] = s.Weight
	}
	want := map[string]int64{
		"TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2,
		"NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("score weights (-want +got):\n%s", diff)
	}
}
