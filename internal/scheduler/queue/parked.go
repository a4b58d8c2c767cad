package queue

import "sort"

// anyEvent indexes parked pods that no plugin rejected (for example when
// there were no nodes at all): every event retries them.
const anyEvent = ""

// parkedPods are the unschedulable pods, indexed by rejecting plugin so
// that an event touches only the pods it may help.
type parkedPods struct {
	pods     map[string]*QueuedPodInfo
	byPlugin map[string]map[string]*QueuedPodInfo
}

func newParkedPods() *parkedPods {
	return &parkedPods{pods: map[string]*QueuedPodInfo{}, byPlugin: map[string]map[string]*QueuedPodInfo{}}
}

func (p *parkedPods) get(key string) (*QueuedPodInfo, bool) {
	pi, ok := p.pods[key]
	return pi, ok
}

func (p *parkedPods) add(pi *QueuedPodInfo) {
	key := pi.key()
	p.remove(key)
	p.pods[key] = pi
	if len(pi.UnschedulablePlugins) == 0 {
		p.index(anyEvent, key, pi)
		return
	}
	for plugin := range pi.UnschedulablePlugins {
		p.index(plugin, key, pi)
	}
}

func (p *parkedPods) index(plugin, key string, pi *QueuedPodInfo) {
	m := p.byPlugin[plugin]
	if m == nil {
		m = map[string]*QueuedPodInfo{}
		p.byPlugin[plugin] = m
	}
	m[key] = pi
}

func (p *parkedPods) remove(key string) {
	pi, ok := p.pods[key]
	if !ok {
		return
	}
	delete(p.pods, key)
	plugins := []string{anyEvent}
	for plugin := range pi.UnschedulablePlugins {
		plugins = append(plugins, plugin)
	}
	for _, plugin := range plugins {
		if m := p.byPlugin[plugin]; m != nil {
			delete(m, key)
			if len(m) == 0 {
				delete(p.byPlugin, plugin)
			}
		}
	}
}

// plugins lists the plugins that parked pods wait on, sorted so that
// moves happen in a repeatable order.
func (p *parkedPods) plugins() []string {
	out := make([]string, 0, len(p.byPlugin))
	for plugin := range p.byPlugin {
		out = append(out, plugin)
	}
	sort.Strings(out)
	return out
}
