package nft

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/google/nftables"
)

// DefaultTable is the name of the table a Syncer owns by default.
const DefaultTable = "tug"

// Options configure a Syncer.
type Options struct {
	// Table is the name of the "ip" table the Syncer owns; it deletes and
	// recreates it on its first sync. Default DefaultTable ("tug").
	Table string
	// NodeName is this node's name: endpoints whose NodeName equals it are
	// local, for the Local traffic policies. Default "": no endpoint is
	// local.
	NodeName string
	// NodeIPs are the node's addresses. NodePorts answer on every local
	// address (fib daddr type local, loopback excepted) and on these.
	// Default none.
	NodeIPs []netip.Addr
	// ClusterCIDRs are the pod network's prefixes: traffic to a cluster IP
	// from outside them is masqueraded, and with externalTrafficPolicy
	// Local, traffic from inside them is balanced like cluster traffic.
	// Default none: only MasqueradeAll masquerades cluster IP traffic.
	ClusterCIDRs []netip.Prefix
	// ServiceCIDRs are the prefixes cluster IPs come from: a new connection
	// to one of their addresses that no Service rule rewrote (an unknown
	// address, or a port the Service does not have) is rejected at once.
	// Default none: such traffic is routed like any other.
	ServiceCIDRs []netip.Prefix
	// MasqueradeAll masquerades all traffic to cluster IPs. Default false.
	MasqueradeAll bool
	// NetNSFd is an open file descriptor of the network namespace whose
	// table is programmed. Default 0: the caller's namespace.
	NetNSFd int
	// Timeout bounds the wait for the kernel's answers to one
	// transaction. Default 30s.
	Timeout time.Duration
}

// Stats describe one sync.
type Stats struct {
	// Full is whether the table was rebuilt from scratch.
	Full bool
	// Services is the number of Services compiled, which for an
	// incremental sync are the ones that changed, appeared or went away.
	Services int
	// Messages is the number of netlink messages in the transaction.
	Messages int
	// ChainsAdded, ChainsFlushed and ChainsDeleted count chain operations;
	// a rewritten chain is flushed, then its rules written.
	ChainsAdded, ChainsFlushed, ChainsDeleted int
	// RulesWritten counts rules written into chains.
	RulesWritten int
	// ElementsAdded and ElementsDeleted count map and set elements.
	ElementsAdded, ElementsDeleted int
	// Chains, Rules and Elements are the table's totals after the sync
	// (the elements the Syncer writes: the clients the dynamic affinity
	// sets learn are not counted).
	Chains, Rules, Elements int
}

// Syncer keeps one table in step with the State it is given. It is not
// safe for concurrent use.
type Syncer struct {
	opts         Options
	fam          family
	comp         compiler
	nodeIPs      []netip.Addr
	clusterCIDRs []netip.Prefix
	serviceCIDRs []netip.Prefix
	sets         []*nftables.Set
	static       []tableChain
	staticRules  int

	// applied are the compiled Services the kernel holds, by key.
	applied map[string]*compiled
	// owners are the Services that claim each element; kernel is the
	// element written for each key; dirty are keys whose claims changed
	// since the last transaction.
	owners map[elemID][]owner
	kernel map[elemID]elemRef
	dirty  map[elemID]struct{}
	// hairpin counts the Services balancing to each endpoint address; an
	// address is in the hairpin set while its count is positive. touched
	// holds the counts before this sync of the addresses it changed.
	hairpin map[netip.Addr]int32
	touched map[netip.Addr]int32
	// chains, rules and endpoints count the Services' chains, rules and
	// service-endpoints elements in the kernel.
	chains, rules, endpoints int
	// full is set until a full sync succeeds: at the start, and after a
	// failed transaction, when what the kernel holds is not known.
	full bool
}

type elemID struct{ set, key string }

type owner struct {
	svc string
	ref elemRef
}

// NewSyncer returns a Syncer for o; its first Sync rebuilds the table.
func NewSyncer(o Options) (*Syncer, error) {
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.NetNSFd < 0 {
		return nil, errors.New("nft: NetNSFd must not be negative")
	}
	s := &Syncer{opts: o, fam: ipv4, full: true}
	for _, a := range o.NodeIPs {
		if s.fam.has(a) && !slices.Contains(s.nodeIPs, a) {
			s.nodeIPs = append(s.nodeIPs, a)
		}
	}
	s.clusterCIDRs = mergePrefixes(s.fam, o.ClusterCIDRs)
	s.serviceCIDRs = mergePrefixes(s.fam, o.ServiceCIDRs)
	s.comp = compiler{fam: s.fam, nodeName: o.NodeName, masqueradeAll: o.MasqueradeAll,
		clusterCIDRs: len(s.clusterCIDRs) > 0}
	s.sets = s.staticSets()
	s.static = s.staticChains()
	for _, c := range s.static {
		s.staticRules += len(c.rules)
	}
	s.reset()
	return s, nil
}

func (s *Syncer) reset() {
	s.applied = map[string]*compiled{}
	s.owners = map[elemID][]owner{}
	s.kernel = map[elemID]elemRef{}
	s.dirty = map[elemID]struct{}{}
	s.hairpin = map[netip.Addr]int32{}
	s.touched = map[netip.Addr]int32{}
	s.chains, s.rules, s.endpoints = 0, 0, 0
	s.comp.spans = newSpans()
}

// Sync makes the table match st in one transaction: the first time (and
// after a failed one) by deleting and rebuilding the table, afterwards by
// rewriting only the chains and elements of the Services that differ from
// the previous State. When the transaction fails the kernel keeps the
// previous rules, and the next Sync rebuilds.
func (s *Syncer) Sync(ctx context.Context, st *State) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	var (
		stats Stats
		err   error
	)
	if s.full {
		stats, err = s.syncFull(st)
	} else {
		stats, err = s.syncChanges(st)
	}
	if err != nil {
		s.full = true
		return stats, err
	}
	stats.Chains = len(s.static) + s.chains
	stats.Rules = s.staticRules + s.rules
	stats.Elements = len(s.kernel) + len(s.hairpin) + s.endpoints
	for _, set := range s.sets {
		stats.Elements += len(s.staticElements(set.Name))
	}
	return stats, nil
}

// unchanged reports whether svc is the Service the kernel has the rules of
// under key.
func (s *Syncer) unchanged(key string, svc *Service) bool {
	old := s.applied[key]
	if old == nil || (old.src != svc && !old.src.Equal(svc)) {
		return false
	}
	// Keep the new pointer so that the next comparison is cheap.
	old.src = svc
	return true
}

func (s *Syncer) syncFull(st *State) (Stats, error) {
	stats := Stats{Full: true}
	b, err := s.newBatch(&stats)
	if err != nil {
		return stats, err
	}
	s.reset()
	t := b.table
	// Adding first makes the delete succeed when the table is missing;
	// the whole table is then rebuilt in the same transaction.
	b.conn.AddTable(t)
	b.conn.DelTable(t)
	b.conn.AddTable(t)
	b.count(0)
	b.count(0)
	b.count(0)
	for _, set := range s.sets {
		if err := b.addSet(set, s.staticElements(set.Name)); err != nil {
			return stats, err
		}
	}
	for _, c := range s.static {
		b.addChain(c.name, c)
	}
	for _, c := range s.static {
		for _, r := range c.rules {
			b.addRule(c.name, r)
		}
	}
	for key, svc := range st.Services {
		c := s.comp.service(svc)
		stats.Services++
		if err := b.addService(c); err != nil {
			return stats, err
		}
		c.strip()
		s.applied[key] = c
		s.own(key, c)
		s.chains += len(c.chains)
		s.rules += c.rules
	}
	var eps groupChanges
	for _, c := range s.applied {
		eps.diff(nil, c)
	}
	adds, _ := s.elementChanges()
	for set, refs := range adds {
		if err := b.elements(set, refs, true); err != nil {
			return stats, err
		}
	}
	if err := b.hairpinElements(s.hairpinChanges()); err != nil {
		return stats, err
	}
	if err := b.endpointElements(eps.adds, true); err != nil {
		return stats, err
	}
	if err := b.flush(); err != nil {
		return stats, err
	}
	s.endpoints += len(eps.adds)
	s.comp.spans.commit()
	s.full = false
	return stats, nil
}

// change is one Service whose rules differ from the kernel's: old or new
// is nil when it appears or goes away.
type change struct {
	key      string
	old, new *compiled
}

func (s *Syncer) syncChanges(st *State) (Stats, error) {
	var stats Stats
	var changes []change
	for key, svc := range st.Services {
		if !s.unchanged(key, svc) {
			changes = append(changes, change{key: key, old: s.applied[key], new: s.comp.service(svc)})
		}
	}
	for key, old := range s.applied {
		if _, ok := st.Services[key]; !ok {
			changes = append(changes, change{key: key, old: old})
		}
	}
	if len(changes) == 0 {
		return stats, nil
	}
	stats.Services = len(changes)
	b, err := s.newBatch(&stats)
	if err != nil {
		return stats, err
	}

	// The transaction's order matters: references go before what they
	// reference (elements and rules before chains and sets), and new
	// chains and sets exist before rules and elements use them.
	var (
		flush, del, add, write []chain
		delSets, addSets       []affinitySet
		eps                    groupChanges
	)
	for _, ch := range changes {
		for _, key := range eps.diff(ch.old, ch.new) {
			s.comp.spans.release(key)
		}
		oldChains := chainsByName(ch.old)
		newChains := chainsByName(ch.new)
		for name, oc := range oldChains {
			nc, ok := newChains[name]
			switch {
			case !ok:
				flush = append(flush, oc)
				del = append(del, oc)
			case !sameRules(oc, nc):
				flush = append(flush, oc)
				write = append(write, nc)
			}
		}
		for name, nc := range newChains {
			if _, ok := oldChains[name]; !ok {
				add = append(add, nc)
				write = append(write, nc)
			}
		}
		oldSets, newSets := setsByName(ch.old), setsByName(ch.new)
		for name, set := range oldSets {
			if _, ok := newSets[name]; !ok {
				delSets = append(delSets, set)
			}
		}
		for name, set := range newSets {
			if _, ok := oldSets[name]; !ok {
				addSets = append(addSets, set)
			}
		}
		if ch.old != nil {
			s.disown(ch.key, ch.old)
			s.chains -= len(ch.old.chains)
			s.rules -= ch.old.rules
			delete(s.applied, ch.key)
		}
		if ch.new != nil {
			s.own(ch.key, ch.new)
			s.chains += len(ch.new.chains)
			s.rules += ch.new.rules
			s.applied[ch.key] = ch.new
		}
	}

	adds, dels := s.elementChanges()
	addrsIn, addrsOut := s.hairpinChanges()
	for set, refs := range dels {
		if err := b.elements(set, refs, false); err != nil {
			return stats, err
		}
	}
	if err := b.hairpinElements(nil, addrsOut); err != nil {
		return stats, err
	}
	if err := b.endpointElements(eps.dels, false); err != nil {
		return stats, err
	}
	for _, c := range flush {
		b.flushChain(c.name)
	}
	for _, c := range del {
		b.delChain(c.name)
	}
	for _, set := range delSets {
		b.delSet(set.name)
	}
	for _, set := range addSets {
		if err := b.addAffinitySet(set); err != nil {
			return stats, err
		}
	}
	for _, c := range add {
		b.addChain(c.name, tableChain{})
	}
	for _, c := range write {
		for _, r := range c.rules {
			b.addRule(c.name, r)
		}
	}
	for set, refs := range adds {
		if err := b.elements(set, refs, true); err != nil {
			return stats, err
		}
	}
	if err := b.hairpinElements(addrsIn, nil); err != nil {
		return stats, err
	}
	if err := b.endpointElements(eps.adds, true); err != nil {
		return stats, err
	}
	for _, ch := range changes {
		if ch.new != nil {
			ch.new.strip()
		}
	}
	if err := b.flush(); err != nil {
		return stats, err
	}
	s.endpoints += len(eps.adds) - len(eps.dels)
	s.comp.spans.commit()
	return stats, nil
}

// groupChanges are the service-endpoints elements a sync deletes and
// adds.
type groupChanges struct {
	dels, adds []endpointElement
}

// endpointElement is key off of service-endpoints map shard, holding ep.
type endpointElement struct {
	shard uint8
	off   uint32
	ep    netip.AddrPort
}

// diff adds the element changes from from's groups to to's (either may be
// nil) and returns the keys of from's groups that to does not have.
func (g *groupChanges) diff(from, to *compiled) (gone []string) {
	var before map[string]group
	if from != nil {
		before = make(map[string]group, len(from.groups))
		for _, og := range from.groups {
			before[og.key] = og
		}
	}
	if to != nil {
		for _, ng := range to.groups {
			og, ok := before[ng.key]
			delete(before, ng.key)
			if ok && og.span == ng.span {
				// Same range: only the slots whose endpoint changed.
				for i := range max(len(og.eps), len(ng.eps)) {
					switch {
					case i >= len(ng.eps):
						g.dels = append(g.dels, endpointElement{ng.span.shard, ng.span.off + uint32(i), og.eps[i]})
					case i >= len(og.eps):
						g.adds = append(g.adds, endpointElement{ng.span.shard, ng.span.off + uint32(i), ng.eps[i]})
					case og.eps[i] != ng.eps[i]:
						g.dels = append(g.dels, endpointElement{ng.span.shard, ng.span.off + uint32(i), og.eps[i]})
						g.adds = append(g.adds, endpointElement{ng.span.shard, ng.span.off + uint32(i), ng.eps[i]})
					}
				}
				continue
			}
			g.removeAll(og, ok)
			for i, ep := range ng.eps {
				g.adds = append(g.adds, endpointElement{ng.span.shard, ng.span.off + uint32(i), ep})
			}
		}
	}
	for key, og := range before {
		g.removeAll(og, true)
		gone = append(gone, key)
	}
	return gone
}

func (g *groupChanges) removeAll(og group, ok bool) {
	if !ok {
		return
	}
	for i, ep := range og.eps {
		g.dels = append(g.dels, endpointElement{og.span.shard, og.span.off + uint32(i), ep})
	}
}

// elementChanges returns the elements to add and delete, by set, for the
// keys whose claims changed, and records them as the kernel's.
func (s *Syncer) elementChanges() (adds, dels map[string][]elemRef) {
	adds, dels = map[string][]elemRef{}, map[string][]elemRef{}
	for id := range s.dirty {
		w, ok := s.winner(id)
		k, in := s.kernel[id]
		if in && (!ok || k.target != w.target) {
			dels[id.set] = append(dels[id.set], k)
			delete(s.kernel, id)
		}
		if ok && (!in || k.target != w.target) {
			adds[id.set] = append(adds[id.set], w)
			s.kernel[id] = w
		}
	}
	clear(s.dirty)
	return adds, dels
}

// hairpinChanges returns the addresses that enter and leave the hairpin
// set in this sync.
func (s *Syncer) hairpinChanges() (in, out []netip.Addr) {
	for a, before := range s.touched {
		now := s.hairpin[a]
		switch {
		case before == 0 && now > 0:
			in = append(in, a)
		case before > 0 && now == 0:
			out = append(out, a)
		}
	}
	clear(s.touched)
	return in, out
}

func chainsByName(c *compiled) map[string]chain {
	if c == nil {
		return nil
	}
	m := make(map[string]chain, len(c.chains))
	for _, ch := range c.chains {
		m[ch.name] = ch
	}
	return m
}

func setsByName(c *compiled) map[string]affinitySet {
	if c == nil {
		return nil
	}
	m := make(map[string]affinitySet, len(c.sets))
	for _, set := range c.sets {
		m[set.name] = set
	}
	return m
}

// own records the elements c claims for the Service key.
func (s *Syncer) own(key string, c *compiled) {
	for _, e := range c.elems {
		id := elemID{set: e.set, key: e.key}
		s.owners[id] = append(s.owners[id], owner{svc: key, ref: e})
		s.dirty[id] = struct{}{}
	}
	s.countHairpin(c, 1)
}

func (s *Syncer) countHairpin(c *compiled, delta int32) {
	for _, a := range c.hairpin {
		n := s.hairpin[a]
		if _, ok := s.touched[a]; !ok {
			s.touched[a] = n
		}
		if n += delta; n > 0 {
			s.hairpin[a] = n
		} else {
			delete(s.hairpin, a)
		}
	}
}

// disown drops the claims of the Service key on c's elements.
func (s *Syncer) disown(key string, c *compiled) {
	for _, e := range c.elems {
		id := elemID{set: e.set, key: e.key}
		os := s.owners[id]
		kept := os[:0]
		for _, o := range os {
			if o.svc != key {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			delete(s.owners, id)
		} else {
			s.owners[id] = kept
		}
		s.dirty[id] = struct{}{}
	}
	s.countHairpin(c, -1)
}

// winner is the element written for id: two Services claiming one key
// (a misconfiguration the API mostly prevents) resolve to the one whose
// key sorts first, so that the outcome does not depend on map order.
func (s *Syncer) winner(id elemID) (elemRef, bool) {
	os := s.owners[id]
	if len(os) == 0 {
		return elemRef{}, false
	}
	best := os[0]
	for _, o := range os[1:] {
		if o.svc < best.svc {
			best = o
		}
	}
	return best.ref, true
}

// Delete removes the table, for a node that stops proxying; the next Sync
// rebuilds it.
func (s *Syncer) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var stats Stats
	b, err := s.newBatch(&stats)
	if err != nil {
		return err
	}
	b.conn.AddTable(b.table)
	b.conn.DelTable(b.table)
	b.count(0)
	b.count(0)
	s.full = true
	s.reset()
	if err := b.flush(); err != nil {
		return fmt.Errorf("delete table %s: %w", s.opts.Table, err)
	}
	return nil
}
