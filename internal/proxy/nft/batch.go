package nft

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// batch is one transaction being assembled: every operation is buffered in
// the netlink connection and sent by flush as one batch, which the kernel
// applies whole or not at all.
type batch struct {
	conn  *nftables.Conn
	table *nftables.Table
	fam   family
	msgs  int
	// bytes estimates the batch's size, generously, for the send buffer.
	bytes   int
	stats   *Stats
	timeout time.Duration
}

func (s *Syncer) newBatch(stats *Stats) (*batch, error) {
	b := &batch{
		table:   &nftables.Table{Name: s.opts.Table, Family: s.fam.table},
		fam:     s.fam,
		stats:   stats,
		timeout: s.opts.Timeout,
	}
	opts := []nftables.ConnOption{nftables.WithSockOptions(b.sizeSocket)}
	if s.opts.NetNSFd != 0 {
		opts = append(opts, nftables.WithNetNSFd(s.opts.NetNSFd))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables connection: %w", err)
	}
	b.conn = conn
	return b, nil
}

// sizeSocket runs when flush dials: the whole batch goes out in one
// sendmsg, and the kernel queues one acknowledgement per message (about
// 1 KiB of buffer each) before the first is read, so both buffers must fit
// or a large sync fails with EMSGSIZE, or with ENOBUFS after the kernel
// committed it. It also bounds the wait for the answers.
func (b *batch) sizeSocket(c *netlink.Conn) error {
	const ackSize, base, maxBuf = 1024, 1 << 20, 1 << 30
	size := min(base+max(2*b.bytes, b.msgs*ackSize), maxBuf)
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for _, opt := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
			// The FORCE options pass the system's limits (root only);
			// without them, the plain ones get as close as allowed.
			if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt[0], size); err != nil {
				if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt[1], size); err != nil {
					serr = errors.Join(serr, err)
				}
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("size netlink socket buffers: %w", serr)
	}
	return c.SetReadDeadline(time.Now().Add(b.timeout))
}

// count records one message of about size bytes of payload.
func (b *batch) count(size int) {
	b.msgs++
	b.bytes += 64 + size
}

func (b *batch) flush() error {
	if b.msgs == 0 {
		return nil
	}
	b.stats.Messages = b.msgs
	if err := b.conn.Flush(); err != nil {
		return fmt.Errorf("nftables transaction of %d messages: %w", b.msgs, err)
	}
	return nil
}

func (b *batch) chain(name string) *nftables.Chain {
	return &nftables.Chain{Name: name, Table: b.table}
}

// addChain adds a regular chain, or a base chain when c has a hook.
func (b *batch) addChain(name string, c tableChain) {
	ch := b.chain(name)
	if c.hook != nil {
		ch.Type, ch.Hooknum, ch.Priority = c.typ, c.hook, c.prio
	}
	b.conn.AddChain(ch)
	b.count(len(name))
	b.stats.ChainsAdded++
}

func (b *batch) flushChain(name string) {
	b.conn.FlushChain(b.chain(name))
	b.count(len(name))
	b.stats.ChainsFlushed++
}

func (b *batch) delChain(name string) {
	b.conn.DelChain(b.chain(name))
	b.count(len(name))
	b.stats.ChainsDeleted++
}

// addRule appends r to chain.
func (b *batch) addRule(chain string, r rule) {
	b.conn.AddRule(&nftables.Rule{Table: b.table, Chain: b.chain(chain), Exprs: r.exprs})
	// An expression marshals to a few dozen bytes; 96 is above them all.
	b.count(len(chain) + 96*len(r.exprs))
	b.stats.RulesWritten++
}

// addService adds what c owns: its affinity sets and chains, then its
// rules.
func (b *batch) addService(c *compiled) error {
	for _, set := range c.sets {
		if err := b.addAffinitySet(set); err != nil {
			return err
		}
	}
	for _, ch := range c.chains {
		b.addChain(ch.name, tableChain{})
	}
	for _, ch := range c.chains {
		for _, r := range ch.rules {
			b.addRule(ch.name, r)
		}
	}
	return nil
}

// addSet adds a named set and its elements.
func (b *batch) addSet(template *nftables.Set, elems []nftables.SetElement) error {
	set := *template
	set.Table = b.table
	if err := b.conn.AddSet(&set, nil); err != nil {
		return fmt.Errorf("set %s: %w", set.Name, err)
	}
	b.count(len(set.Name) + 256)
	return b.setElements(&set, elems, true)
}

// affinitySetSize bounds an affinity set, as nft(8) does for sets that rules
// fill: a client beyond it connects without affinity.
const affinitySetSize = 65535

func (b *batch) addAffinitySet(a affinitySet) error {
	return b.addSet(&nftables.Set{Name: a.name, KeyType: b.fam.addrType, HasTimeout: true, Timeout: a.timeout,
		Dynamic: true, Size: affinitySetSize}, nil)
}

func (b *batch) delSet(name string) {
	b.conn.DelSet(&nftables.Set{Name: name, Table: b.table})
	b.count(len(name))
}

// elements adds (or deletes) refs in the named set.
func (b *batch) elements(set string, refs []elemRef, add bool) error {
	elems := make([]nftables.SetElement, len(refs))
	for i, r := range refs {
		elems[i].Key = []byte(r.key)
		switch r.target {
		case "":
		case targetDrop:
			elems[i].VerdictData = &expr.Verdict{Kind: expr.VerdictDrop}
		default:
			elems[i].VerdictData = &expr.Verdict{Kind: expr.VerdictGoto, Chain: r.target}
		}
	}
	return b.setElements(&nftables.Set{Name: set, Table: b.table}, elems, add)
}

// elementBudget bounds the bytes of elements in one message: the element
// list is one netlink attribute, whose length field has 16 bits.
const elementBudget = 32 << 10

func (b *batch) setElements(set *nftables.Set, elems []nftables.SetElement, add bool) error {
	for len(elems) > 0 {
		n, size := 0, 0
		for n < len(elems) && (n == 0 || size < elementBudget) {
			e := elems[n]
			size += 48 + len(e.Key) + len(e.Val)
			if e.VerdictData != nil {
				size += len(e.VerdictData.Chain)
			}
			n++
		}
		var err error
		if add {
			err = b.conn.SetAddElements(set, elems[:n])
			b.stats.ElementsAdded += n
		} else {
			err = b.conn.SetDeleteElements(set, elems[:n])
			b.stats.ElementsDeleted += n
		}
		if err != nil {
			return fmt.Errorf("elements of %s: %w", set.Name, err)
		}
		b.count(size)
		elems = elems[n:]
	}
	return nil
}

// hairpinElements adds the addresses in and deletes those out of the
// hairpin set, each as the pair "address . address".
func (b *batch) hairpinElements(in, out []netip.Addr) error {
	pairs := func(addrs []netip.Addr) []nftables.SetElement {
		elems := make([]nftables.SetElement, len(addrs))
		for i, a := range addrs {
			elems[i].Key = append(a.AsSlice(), a.AsSlice()...)
		}
		return elems
	}
	set := &nftables.Set{Name: setHairpin, Table: b.table}
	if err := b.setElements(set, pairs(out), false); err != nil {
		return err
	}
	return b.setElements(set, pairs(in), true)
}

// endpointElements adds or deletes elements of the service-endpoints maps.
func (b *batch) endpointElements(elems []endpointElement, add bool) error {
	byShard := map[uint8][]nftables.SetElement{}
	for _, e := range elems {
		byShard[e.shard] = append(byShard[e.shard], nftables.SetElement{
			Key: native32(e.off),
			Val: append(e.ep.Addr().AsSlice(), byte(e.ep.Port()>>8), byte(e.ep.Port()), 0, 0),
		})
	}
	for shard, out := range byShard {
		if err := b.setElements(&nftables.Set{Name: shardMap(shard), Table: b.table}, out, add); err != nil {
			return err
		}
	}
	return nil
}
