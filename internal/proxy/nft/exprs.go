package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// rule is one nftables rule: the expressions the kernel runs and a text
// that renders them the way nft(8) lists them, close enough to compare
// chains, list them and keep golden files without reading the kernel back.
type rule struct {
	text  string
	exprs []expr.Any
	// span is the range of the service-endpoints map the rule draws from,
	// which its text names symbolically: where the range lies is the
	// Syncer's business, but a rule must be rewritten when it moves.
	span *span
}

// frag is a piece of a rule: a match or a statement.
type frag struct {
	text  string
	exprs []expr.Any
}

// newRule joins frags into a rule.
func newRule(frags ...frag) rule {
	var r rule
	texts := make([]string, 0, len(frags))
	for _, f := range frags {
		texts = append(texts, f.text)
		r.exprs = append(r.exprs, f.exprs...)
	}
	r.text = strings.Join(texts, " ")
	return r
}

// Registers, as nft(8) allocates them: the 16-byte register 1 and the
// 4-byte registers that follow it, for concatenated keys.
const (
	reg1   = unix.NFT_REG_1
	reg2   = unix.NFT_REG_2
	reg32b = unix.NFT_REG32_01
	reg32c = unix.NFT_REG32_02
)

// masqueradeMark is the packet mark bit that asks the postrouting chain to
// masquerade, kube-proxy's value so that tools reading marks agree.
const masqueradeMark = 0x4000

// family is what differs between the IPv4 and IPv6 tables. Only IPv4 is
// programmed today; the rules take their offsets and types from here so
// that an ip6 table can follow.
type family struct {
	name        string // "ip"
	table       nftables.TableFamily
	nfproto     uint32
	addrType    nftables.SetDatatype
	saddrOffset uint32
	daddrOffset uint32
	addrLen     uint32
	loopback    netip.Prefix
	// rejectCode is ICMP port unreachable in this family's ICMP.
	rejectCode uint8
}

var ipv4 = family{
	name: "ip", table: nftables.TableFamilyIPv4, nfproto: unix.NFPROTO_IPV4, addrType: nftables.TypeIPAddr,
	saddrOffset: 12, daddrOffset: 16, addrLen: 4, loopback: netip.MustParsePrefix("127.0.0.0/8"),
	rejectCode: 3,
}

// has reports whether a is an address of the family.
func (f family) has(a netip.Addr) bool { return a.Is4() && f.addrLen == 4 }

// saddr loads the source address into register 1.
func (f family) saddr() expr.Any {
	return &expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: f.saddrOffset, Len: f.addrLen}
}

func (f family) daddr(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: f.daddrOffset, Len: f.addrLen}
}

// l4proto loads the transport protocol into reg.
func l4proto(reg uint32) expr.Any { return &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg} }

// dport loads the transport header's destination port into reg; it is
// meaningful for TCP, UDP and SCTP, which is why every key holding it also
// holds the protocol.
func dport(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}
}

// protoNumber is the IP protocol number of a Service protocol.
func protoNumber(p corev1.Protocol) byte {
	switch p {
	case corev1.ProtocolUDP:
		return unix.IPPROTO_UDP
	case corev1.ProtocolSCTP:
		return unix.IPPROTO_SCTP
	default:
		return unix.IPPROTO_TCP
	}
}

// protoName is nft's name of a Service protocol.
func protoName(p corev1.Protocol) string { return strings.ToLower(string(p)) }

func native32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// matchL4proto is "meta l4proto tcp".
func matchL4proto(p corev1.Protocol) frag {
	return frag{text: "meta l4proto " + protoName(p), exprs: []expr.Any{
		l4proto(reg1),
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{protoNumber(p)}},
	}}
}

// matchDaddrProtoPortVmap is "ip daddr . meta l4proto . th dport vmap @m".
func (f family) matchDaddrProtoPortVmap(m string) frag {
	return frag{text: f.name + " daddr . meta l4proto . th dport vmap @" + m, exprs: []expr.Any{
		f.daddr(reg1), l4proto(reg32b), dport(reg32c), vmapLookup(m),
	}}
}

// matchProtoPortVmap is "meta l4proto . th dport vmap @m".
func matchProtoPortVmap(m string) frag {
	return frag{text: "meta l4proto . th dport vmap @" + m, exprs: []expr.Any{
		l4proto(reg1), dport(reg32b), vmapLookup(m),
	}}
}

func vmapLookup(m string) expr.Any {
	return &expr.Lookup{SourceRegister: reg1, DestRegister: unix.NFT_REG_VERDICT, IsDestRegSet: true, SetName: m}
}

// matchFibLocal is "fib daddr type local" (or saddr).
func matchFibLocal(saddr bool) frag {
	which := "daddr"
	if saddr {
		which = "saddr"
	}
	return frag{text: "fib " + which + " type local", exprs: []expr.Any{
		&expr.Fib{Register: reg1, FlagSADDR: saddr, FlagDADDR: !saddr, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: native32(unix.RTN_LOCAL)},
	}}
}

// matchDaddrNotIn is "ip daddr != 127.0.0.0/8".
func (f family) matchDaddrNotIn(p netip.Prefix) frag {
	mask := netip.PrefixFrom(p.Addr(), p.Bits()).Masked()
	bits := make([]byte, f.addrLen)
	for i := range p.Bits() {
		bits[i/8] |= 0x80 >> (i % 8)
	}
	return frag{text: fmt.Sprintf("%s daddr != %s", f.name, p), exprs: []expr.Any{
		f.daddr(reg1),
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: f.addrLen, Mask: bits, Xor: make([]byte, f.addrLen)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: mask.Addr().AsSlice()},
	}}
}

// matchAddrInSet is "ip saddr @s" (or daddr, or != for invert).
func (f family) matchAddrInSet(saddr, invert bool, s string) frag {
	which, load, op := "daddr", f.daddr(reg1), " "
	if saddr {
		which, load = "saddr", f.saddr()
	}
	if invert {
		op = " != "
	}
	return frag{text: f.name + " " + which + op + "@" + s, exprs: []expr.Any{
		load, &expr.Lookup{SourceRegister: reg1, SetName: s, Invert: invert},
	}}
}

// matchHairpin is "ip saddr . ip daddr @s": the pair of a packet whose
// source is the endpoint it was DNATed to.
func (f family) matchHairpin(s string) frag {
	return frag{text: f.name + " saddr . " + f.name + " daddr @" + s, exprs: []expr.Any{
		f.saddr(), f.daddr(reg32b), &expr.Lookup{SourceRegister: reg1, SetName: s},
	}}
}

// matchCt is "ct state new" or "ct status dnat": a bit of a conntrack
// bitmask key.
func matchCt(key expr.CtKey, bit uint32, text string) frag {
	return frag{text: text, exprs: []expr.Any{
		&expr.Ct{Register: reg1, Key: key},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: native32(bit), Xor: native32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: native32(0)},
	}}
}

var (
	ctStateNew   = matchCt(expr.CtKeySTATE, expr.CtStateBitNEW, "ct state new")
	ctStatusDNAT = matchCt(expr.CtKeySTATUS, ipsDstNAT, "ct status dnat")
)

// markUnset is "meta mark & 0x4000 == 0".
func markUnset() frag {
	return frag{text: fmt.Sprintf("meta mark & %#x == 0", masqueradeMark), exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: native32(masqueradeMark), Xor: native32(0)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: native32(0)},
	}}
}

// setMark is "meta mark set meta mark | 0x4000": ask for masquerading.
func setMark() frag {
	return frag{text: fmt.Sprintf("meta mark set meta mark | %#x", masqueradeMark), exprs: markOp(^uint32(masqueradeMark), masqueradeMark)}
}

// clearMark is "meta mark set meta mark ^ 0x4000", for a packet that has
// the bit: the mark is ours and should not outlive the decision.
func clearMark() frag {
	return frag{text: fmt.Sprintf("meta mark set meta mark ^ %#x", masqueradeMark), exprs: markOp(^uint32(0), masqueradeMark)}
}

func markOp(mask, xor uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: native32(mask), Xor: native32(xor)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: reg1},
	}
}

// masquerade is "masquerade fully-random".
func masquerade() frag {
	return frag{text: "masquerade fully-random", exprs: []expr.Any{&expr.Masq{FullyRandom: true}}}
}

func verdict(kind expr.VerdictKind, chain string) frag {
	var text string
	switch kind {
	case expr.VerdictJump:
		text = "jump " + chain
	case expr.VerdictGoto:
		text = "goto " + chain
	case expr.VerdictReturn:
		text = "return"
	case expr.VerdictDrop:
		text = "drop"
	default:
		text = "accept"
	}
	return frag{text: text, exprs: []expr.Any{&expr.Verdict{Kind: kind, Chain: chain}}}
}

func jump(chain string) frag { return verdict(expr.VerdictJump, chain) }

func goTo(chain string) frag { return verdict(expr.VerdictGoto, chain) }

// rejectTCPReset is "reject with tcp reset", for a TCP packet.
func rejectTCPReset() frag {
	return frag{text: "reject with tcp reset", exprs: []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}}
}

// rejectICMP is "reject": ICMP port unreachable.
func (f family) rejectICMP() frag {
	return frag{text: "reject", exprs: []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: f.rejectCode}}}
}

// updateSet is "update @s { ip saddr }": remember the client, or refresh
// its timeout.
func (f family) updateSet(s string) frag {
	return frag{text: "update @" + s + " { " + f.name + " saddr }", exprs: []expr.Any{
		f.saddr(), &expr.Dynset{SrcRegKey: reg1, SetName: s, Operation: unix.NFT_DYNSET_OP_UPDATE},
	}}
}

// dnat is "dnat to 10.42.0.5:8080".
func (f family) dnat(ep Endpoint) frag {
	return frag{text: "dnat to " + netip.AddrPortFrom(ep.Addr, ep.Port).String(), exprs: []expr.Any{
		&expr.Immediate{Register: reg1, Data: ep.Addr.AsSlice()},
		&expr.Immediate{Register: reg2, Data: binary.BigEndian.AppendUint16(nil, ep.Port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: f.nfproto, RegAddrMin: reg1, RegAddrMax: reg1,
			RegProtoMin: reg2, RegProtoMax: reg2, Specified: true},
	}}
}

// dnatGroup is "dnat to numgen random mod n offset off map
// @service-endpoints-NN": one rule balancing over the n endpoints the map
// holds from off on. The text names the group instead of the offset, which
// depends on the order ranges were handed out in.
func (f family) dnatGroup(n int, sp span, group string) frag {
	m := shardMap(sp.shard)
	return frag{
		text: fmt.Sprintf("dnat to numgen random mod %d offset <%s> map @%s", n, group, m),
		exprs: []expr.Any{
			&expr.Numgen{Register: reg1, Modulus: uint32(n), Type: unix.NFT_NG_RANDOM, Offset: sp.off},
			&expr.Lookup{SourceRegister: reg1, DestRegister: reg1, IsDestRegSet: true, SetName: m},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: f.nfproto, RegAddrMin: reg1, RegAddrMax: reg1,
				RegProtoMin: reg32b, RegProtoMax: reg32b, Specified: true},
		},
	}
}

// numgenIs is "numgen random mod n == 0": true with probability 1/n.
// With session affinity, endpoint i of n gets a rule with mod n-i, so that
// each is picked with probability 1/n, through its own chain.
func numgenIs(n int) frag {
	return frag{text: fmt.Sprintf("numgen random mod %d == 0", n), exprs: []expr.Any{
		&expr.Numgen{Register: reg1, Modulus: uint32(n), Type: unix.NFT_NG_RANDOM},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: native32(0)},
	}}
}

// ipsDstNAT is the conntrack status bit of a DNATed connection
// (IPS_DST_NAT in linux/netfilter/nf_conntrack_common.h).
const ipsDstNAT = 1 << 5
