// Package runtime builds the plugins of a scheduler profile and runs them
// at each extension point; its Framework is the framework.Handle plugins
// receive.
package runtime

import (
	"context"
	"fmt"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Nominator reports pods nominated to a node by preemption.
type Nominator interface {
	NominatedPodsForNode(nodeName string) []*framework.PodInfo
	// HasNominatedPods reports whether any pod is nominated: filters ask
	// for every node, and there rarely is one.
	HasNominatedPods() bool
}

// Config is what a Framework is built from.
type Config struct {
	Registry        Registry
	Profile         Profile
	Client          kubernetes.Interface
	InformerFactory informers.SharedInformerFactory
	EventRecorder   events.EventRecorder
	// Snapshot is the lister plugins read; the scheduler updates it at
	// the start of every cycle.
	Snapshot framework.SharedLister
	// Nominator may be nil: then no pods are nominated.
	Nominator Nominator
	// Parallelism is how many goroutines Parallelize uses. Default 16.
	Parallelism int
}

// DefaultParallelism is the default of Config.Parallelism.
const DefaultParallelism = 16

// Framework runs one profile's plugins.
type Framework struct {
	cfg        Config
	plugins    map[string]framework.Plugin
	preFilter  []framework.PreFilterPlugin
	filter     []framework.FilterPlugin
	postFilter []framework.PostFilterPlugin
	preScore   []framework.PreScorePlugin
	score      []weightedScore
	reserve    []framework.ReservePlugin
	permit     []framework.PermitPlugin
	bind       []framework.BindPlugin
}

type weightedScore struct {
	framework.ScorePlugin
	weight int64
}

var _ framework.Handle = (*Framework)(nil)

// New builds every plugin the profile names (each once) and sorts them
// into extension points. A plugin named at a point it does not implement
// is an error.
func New(ctx context.Context, cfg Config) (*Framework, error) {
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = DefaultParallelism
	}
	f := &Framework{cfg: cfg, plugins: map[string]framework.Plugin{}}
	for _, name := range cfg.Profile.names() {
		factory, ok := cfg.Registry[name]
		if !ok {
			return nil, fmt.Errorf("scheduler plugin %q is not registered", name)
		}
		p, err := factory(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("build scheduler plugin %q: %w", name, err)
		}
		f.plugins[name] = p
	}
	var err error
	if f.preFilter, err = pluginsAt[framework.PreFilterPlugin](f, "PreFilter", cfg.Profile.PreFilter); err != nil {
		return nil, err
	}
	if f.filter, err = pluginsAt[framework.FilterPlugin](f, "Filter", cfg.Profile.Filter); err != nil {
		return nil, err
	}
	if f.postFilter, err = pluginsAt[framework.PostFilterPlugin](f, "PostFilter", cfg.Profile.PostFilter); err != nil {
		return nil, err
	}
	if f.preScore, err = pluginsAt[framework.PreScorePlugin](f, "PreScore", cfg.Profile.PreScore); err != nil {
		return nil, err
	}
	for _, ws := range cfg.Profile.Score {
		sp, ok := f.plugins[ws.Name].(framework.ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler plugin %q is not a Score plugin", ws.Name)
		}
		weight := ws.Weight
		if weight == 0 {
			weight = 1
		}
		f.score = append(f.score, weightedScore{ScorePlugin: sp, weight: weight})
	}
	if f.reserve, err = pluginsAt[framework.ReservePlugin](f, "Reserve", cfg.Profile.Reserve); err != nil {
		return nil, err
	}
	if f.permit, err = pluginsAt[framework.PermitPlugin](f, "Permit", cfg.Profile.Permit); err != nil {
		return nil, err
	}
	if f.bind, err = pluginsAt[framework.BindPlugin](f, "Bind", cfg.Profile.Bind); err != nil {
		return nil, err
	}
	return f, nil
}

func pluginsAt[T framework.Plugin](f *Framework, point string, names []string) ([]T, error) {
	out := make([]T, 0, len(names))
	for _, name := range names {
		p, ok := f.plugins[name].(T)
		if !ok {
			return nil, fmt.Errorf("scheduler plugin %q is not a %s plugin", name, point)
		}
		out = append(out, p)
	}
	return out, nil
}

// ProfileName is the scheduler name the profile serves.
func (f *Framework) ProfileName() string { return f.cfg.Profile.SchedulerName }

// Plugin returns a built plugin by name (for tests and wiring).
func (f *Framework) Plugin(name string) (framework.Plugin, bool) {
	p, ok := f.plugins[name]
	return p, ok
}

// EventsToRegister returns, for each plugin that implements
// framework.EnqueueExtensions, the cluster events it registered.
func (f *Framework) EventsToRegister() map[string][]framework.ClusterEvent {
	out := map[string][]framework.ClusterEvent{}
	for name, p := range f.plugins {
		if ext, ok := p.(framework.EnqueueExtensions); ok {
			out[name] = ext.EventsToRegister()
		}
	}
	return out
}

// HasFilterPlugins reports whether any filter runs.
func (f *Framework) HasFilterPlugins() bool { return len(f.filter) > 0 }

// HasPostFilterPlugins reports whether any post-filter (preemption) runs.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilter) > 0 }

// HasScorePlugins reports whether any score plugin runs.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// SnapshotSharedLister implements framework.Handle.
func (f *Framework) SnapshotSharedLister() framework.SharedLister { return f.cfg.Snapshot }

// ClientSet implements framework.Handle.
func (f *Framework) ClientSet() kubernetes.Interface { return f.cfg.Client }

// SharedInformerFactory implements framework.Handle.
func (f *Framework) SharedInformerFactory() informers.SharedInformerFactory {
	return f.cfg.InformerFactory
}

// EventRecorder implements framework.Handle.
func (f *Framework) EventRecorder() events.EventRecorder { return f.cfg.EventRecorder }

// NominatedPodsForNode implements framework.Handle.
func (f *Framework) NominatedPodsForNode(nodeName string) []*framework.PodInfo {
	if f.cfg.Nominator == nil {
		return nil
	}
	return f.cfg.Nominator.NominatedPodsForNode(nodeName)
}

// Parallelize implements framework.Handle with the configured number of
// goroutines.
func (f *Framework) Parallelize(ctx context.Context, n int, work func(i int)) {
	parallelize(ctx, f.cfg.Parallelism, n, work)
}

// tagged returns a copy of a non-success status s that names plugin.
// Plugins may return shared Status values, so they are never changed.
func tagged(s *framework.Status, plugin string) *framework.Status {
	if s.IsSuccess() {
		return s
	}
	var out *framework.Status
	if s.Code() == framework.Error {
		out = framework.AsStatus(s.AsError())
	} else {
		out = framework.NewStatus(s.Code(), s.Reasons()...)
	}
	return out.WithPlugin(plugin)
}

// asError wraps a plugin's Error status with where it happened.
func asError(s *framework.Status, point, plugin string) *framework.Status {
	return framework.AsStatus(fmt.Errorf("running %s plugin %q: %w", point, plugin, s.AsError())).WithPlugin(plugin)
}
