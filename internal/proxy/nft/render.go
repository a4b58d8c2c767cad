package nft

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/nftables"
)

// Render returns the table a Syncer with options o would write for st, in
// nft(8)'s syntax, without touching the kernel: for reading, and for golden
// files of rule sets.
func Render(o Options, st *State) (string, error) {
	s, err := NewSyncer(o)
	if err != nil {
		return "", err
	}
	applied := make(map[string]*compiled, len(st.Services))
	for key, svc := range st.Services {
		c := s.comp.service(svc)
		applied[key] = c
		s.own(key, c)
	}
	elems := map[elemID]elemRef{}
	for id := range s.owners {
		elems[id], _ = s.winner(id)
	}
	return s.render(applied, elems, s.hairpin), nil
}

// Text returns the table as the Syncer last wrote it, in Render's form; an
// incremental sync must leave the same text as a full one. The Syncer keeps
// no rules, so their text comes from compiling the Services again.
func (s *Syncer) Text() string {
	comp := s.comp
	comp.spans = newSpans()
	progs := make(map[string]*compiled, len(s.applied))
	for key, c := range s.applied {
		progs[key] = comp.service(c.src)
	}
	return s.render(progs, s.kernel, s.hairpin)
}

func (s *Syncer) render(applied map[string]*compiled, elems map[elemID]elemRef, hairpin map[netip.Addr]int32) string {
	var w strings.Builder
	fmt.Fprintf(&w, "table %s %s {\n", s.fam.name, s.opts.Table)
	bySet := map[string][]string{}
	for _, e := range elems {
		bySet[e.set] = append(bySet[e.set], e.text)
	}
	for a := range hairpin {
		bySet[setHairpin] = append(bySet[setHairpin], a.String()+" . "+a.String())
	}
	for _, c := range applied {
		for _, g := range c.groups {
			for i, ep := range g.eps {
				m := shardMap(g.span.shard)
				bySet[m] = append(bySet[m],
					fmt.Sprintf("<%s>+%d : %s . %d", g.key, i, ep.Addr(), ep.Port()))
			}
		}
	}
	for _, set := range s.sets {
		kind := "set"
		if set.IsMap {
			kind = "map"
		}
		texts := bySet[set.Name]
		for _, e := range s.staticElements(set.Name) {
			if !e.IntervalEnd {
				texts = append(texts, s.staticElementText(set.Name, e))
			}
		}
		if len(texts) == 0 && strings.HasPrefix(set.Name, mapServiceEndpoints) {
			// 64 empty shards would drown the rest.
			continue
		}
		slices.Sort(texts)
		fmt.Fprintf(&w, "\t%s %s {\n\t\ttype %s", kind, set.Name, set.KeyType.Name)
		if set.IsMap {
			fmt.Fprintf(&w, " : %s", set.DataType.Name)
		}
		w.WriteString("\n")
		if set.Interval {
			w.WriteString("\t\tflags interval\n")
		}
		writeElements(&w, texts)
		w.WriteString("\t}\n")
	}
	var sets []affinitySet
	var chains []chain
	for _, c := range applied {
		sets = append(sets, c.sets...)
		chains = append(chains, c.chains...)
	}
	slices.SortFunc(sets, func(a, b affinitySet) int { return strings.Compare(a.name, b.name) })
	for _, set := range sets {
		fmt.Fprintf(&w, "\tset %s {\n\t\ttype %s\n\t\tsize %d\n\t\tflags dynamic,timeout\n\t\ttimeout %ds\n\t}\n",
			set.name, s.fam.addrType.Name, affinitySetSize, int64(set.timeout/time.Second))
	}
	for _, c := range s.static {
		fmt.Fprintf(&w, "\tchain %s {\n", c.name)
		if c.hook != nil {
			fmt.Fprintf(&w, "\t\ttype %s hook %s priority %d\n", c.typ, hookName(*c.hook), *c.prio)
		}
		writeRules(&w, c.rules)
		w.WriteString("\t}\n")
	}
	slices.SortFunc(chains, func(a, b chain) int { return strings.Compare(a.name, b.name) })
	for _, c := range chains {
		fmt.Fprintf(&w, "\tchain %s {\n", c.name)
		writeRules(&w, c.rules)
		w.WriteString("\t}\n")
	}
	w.WriteString("}\n")
	return w.String()
}

func writeElements(w *strings.Builder, texts []string) {
	if len(texts) == 0 {
		return
	}
	w.WriteString("\t\telements = {\n")
	for _, t := range texts {
		fmt.Fprintf(w, "\t\t\t%s,\n", t)
	}
	w.WriteString("\t\t}\n")
}

func writeRules(w *strings.Builder, rules []rule) {
	for _, r := range rules {
		fmt.Fprintf(w, "\t\t%s\n", r.text)
	}
}

// staticElementText renders an element of an option-driven set: an
// address, or the prefix an interval starts.
func (s *Syncer) staticElementText(set string, e nftables.SetElement) string {
	var prefixes = s.clusterCIDRs
	if set == setServiceCIDRs {
		prefixes = s.serviceCIDRs
	}
	if set != setNodeIPs {
		for _, p := range prefixes {
			if string(p.Addr().AsSlice()) == string(e.Key) {
				return p.String()
			}
		}
	}
	for _, a := range s.nodeIPs {
		if string(a.AsSlice()) == string(e.Key) {
			return a.String()
		}
	}
	return fmt.Sprintf("%x", e.Key)
}

func hookName(h nftables.ChainHook) string {
	switch h {
	case *nftables.ChainHookPrerouting:
		return "prerouting"
	case *nftables.ChainHookInput:
		return "input"
	case *nftables.ChainHookForward:
		return "forward"
	case *nftables.ChainHookOutput:
		return "output"
	case *nftables.ChainHookPostrouting:
		return "postrouting"
	}
	return fmt.Sprint(uint32(h))
}
