package nft

import (
	"fmt"
	"hash/fnv"
	"math/bits"
)

// endpointShards is the number of service-endpoints maps. The kernel checks
// every element added to a map against every rule that looks it up, and
// every rule that starts looking a map up against all its elements, so one
// map for all Services costs Services × endpoints per full sync: about 30 s
// at 10,000 Services of 10 endpoints. Spread over 64 maps, it is 64 times
// less, and an incremental sync checks one map of a few thousand elements.
const endpointShards = 64

// shardMap names service-endpoints map i.
func shardMap(i uint8) string { return fmt.Sprintf("%s-%02d", mapServiceEndpoints, i) }

// shardOf is the map a group's endpoints go to: a hash of its key, so that
// a group stays in its map for its life.
func shardOf(key string) uint8 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return uint8(h.Sum32() % endpointShards)
}

// span is a range of keys of one service-endpoints map: [off, off+cap) in
// map shard.
type span struct {
	shard    uint8
	off, cap uint32
}

// spans hands out ranges of the service-endpoints maps' keys to groups. A
// group keeps its range while its endpoints fit; a range given up is
// reused only after the transaction that stopped using it, since until
// then the kernel's rules still point at it.
type spans struct {
	next    [endpointShards]uint32
	free    map[[2]uint32][]uint32 // by shard and capacity
	byKey   map[string]span
	used    map[string]bool
	pending []span
}

func newSpans() *spans {
	return &spans{free: map[[2]uint32][]uint32{}, byKey: map[string]span{}, used: map[string]bool{}}
}

// minSpan is the smallest range: room for a few more endpoints than a
// small group has, so that scaling by one or two keeps the rule.
const minSpan = 4

// get returns the range of group key for n endpoints: its current one when
// n fits, else a new one, power-of-two sized.
func (s *spans) get(key string, n int) span {
	s.used[key] = true
	cur, ok := s.byKey[key]
	if ok && int(cur.cap) >= n {
		return cur
	}
	if ok {
		s.pending = append(s.pending, cur)
	}
	size := uint32(minSpan)
	if n > minSpan {
		size = 1 << bits.Len32(uint32(n-1))
	}
	sp := span{shard: shardOf(key), cap: size}
	class := [2]uint32{uint32(sp.shard), size}
	if offs := s.free[class]; len(offs) > 0 {
		sp.off = offs[len(offs)-1]
		s.free[class] = offs[:len(offs)-1]
	} else {
		sp.off = s.next[sp.shard]
		s.next[sp.shard] += size
	}
	s.byKey[key] = sp
	return sp
}

// release gives up the range of group key, unless a get in this sync
// claimed it again (the group moved from one Service version to the next).
func (s *spans) release(key string) {
	if s.used[key] {
		return
	}
	if cur, ok := s.byKey[key]; ok {
		s.pending = append(s.pending, cur)
		delete(s.byKey, key)
	}
}

// commit ends a sync whose transaction applied: released ranges become
// free.
func (s *spans) commit() {
	for _, sp := range s.pending {
		class := [2]uint32{uint32(sp.shard), sp.cap}
		s.free[class] = append(s.free[class], sp.off)
	}
	s.pending = s.pending[:0]
	clear(s.used)
}
