package runtime

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// RunPreScorePlugins runs every pre-score plugin; plugins returning Skip
// are recorded in state.SkipScorePlugins.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) *framework.Status {
	skipped := map[string]bool{}
	for _, pl := range f.preScore {
		s := pl.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			skipped[pl.Name()] = true
			continue
		}
		if !s.IsSuccess() {
			return asError(s, "PreScore", pl.Name())
		}
	}
	if len(skipped) > 0 {
		state.SkipScorePlugins = skipped
	}
	return nil
}

// scoreScratch holds RunScorePlugins' per-plugin scores between calls.
var scoreScratch = sync.Pool{New: func() any { return new([]framework.NodeScore) }}

// RunScorePlugins scores nodes with every score plugin not skipped,
// normalizes each plugin's scores, checks they lie in [MinNodeScore,
// MaxNodeScore], and returns per node the sum of score × weight, in the
// order of nodes.
func (f *Framework) RunScorePlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) ([]framework.NodeScore, *framework.Status) {
	var plugins []weightedScore
	for _, pl := range f.score {
		if !state.SkipScorePlugins[pl.Name()] {
			plugins = append(plugins, pl)
		}
	}
	totals := make([]framework.NodeScore, len(nodes))
	for i, ni := range nodes {
		totals[i].Name = ni.Name
	}
	if len(plugins) == 0 {
		return totals, nil
	}
	// The per-plugin scores live only in this call: one reused backing
	// array holds them (a cycle over thousands of nodes made a fresh one
	// per plugin).
	scratch := scoreScratch.Get().(*[]framework.NodeScore)
	defer scoreScratch.Put(scratch)
	if need := len(plugins) * len(nodes); cap(*scratch) < need {
		*scratch = make([]framework.NodeScore, need)
	}
	scores := make([][]framework.NodeScore, len(plugins))
	for j := range plugins {
		scores[j] = (*scratch)[j*len(nodes) : (j+1)*len(nodes) : (j+1)*len(nodes)]
		clear(scores[j])
	}
	var once sync.Once
	var failed *framework.Status
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.Parallelize(ctx, len(nodes), func(i int) {
		for j, pl := range plugins {
			s, st := pl.Score(ctx, state, pod, nodes[i])
			if !st.IsSuccess() {
				once.Do(func() { failed = asError(st, "Score", pl.Name()) })
				cancel()
				return
			}
			scores[j][i] = framework.NodeScore{Name: nodes[i].Name, Score: s}
		}
	})
	if failed != nil {
		return nil, failed
	}
	f.Parallelize(ctx, len(plugins), func(j int) {
		ext := plugins[j].ScoreExtensions()
		if ext == nil {
			return
		}
		if st := ext.NormalizeScore(ctx, state, pod, scores[j]); !st.IsSuccess() {
			once.Do(func() { failed = asError(st, "NormalizeScore", plugins[j].Name()) })
		}
	})
	if failed != nil {
		return nil, failed
	}
	for j, pl := range plugins {
		for i, ns := range scores[j] {
			if ns.Score < framework.MinNodeScore || ns.Score > framework.MaxNodeScore {
				err := fmt.Errorf("score plugin %q gave node %q the score %d, outside [%d, %d] after normalizing",
					pl.Name(), ns.Name, ns.Score, framework.MinNodeScore, framework.MaxNodeScore)
				return nil, framework.AsStatus(err).WithPlugin(pl.Name())
			}
			totals[i].Score += ns.Score * pl.weight
		}
	}
	return totals, nil
}
