package runtime

import (
	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Registry maps plugin names to their factories. The scheduler's registry
// is an explicit map literal (../plugins); tests build their own.
type Registry map[string]framework.PluginFactory

// Profile says which plugins run at which extension point, in order. A
// plugin named at several points is built once and shares its state.
type Profile struct {
	// SchedulerName is the spec.schedulerName this profile serves.
	SchedulerName string
	PreFilter     []string
	Filter        []string
	PostFilter    []string
	PreScore      []string
	Score         []WeightedPlugin
	Reserve       []string
	Permit        []string
	Bind          []string
}

// WeightedPlugin is a score plugin with the weight its normalized score
// is multiplied by.
type WeightedPlugin struct {
	Name   string
	Weight int64
}

// names lists every plugin the profile uses, each once, in first-use
// order.
func (p *Profile) names() []string {
	seen := map[string]bool{}
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	add(p.PreFilter...)
	add(p.Filter...)
	add(p.PostFilter...)
	add(p.PreScore...)
	for _, s := range p.Score {
		add(s.Name)
	}
	add(p.Reserve...)
	add(p.Permit...)
	add(p.Bind...)
	return out
}
