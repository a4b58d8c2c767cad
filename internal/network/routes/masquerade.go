package routes

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// masqueradeTable holds the one masquerading rule per cluster CIDR.
const masqueradeTable = "tug-masq"

// syncMasquerade makes the table masqueradeTable hold, when on, a rule per
// IPv4 cluster CIDR that SNATs packets from it to addresses outside it,
// and removes the table when off. The whole table is replaced in one
// transaction.
func syncMasquerade(cidrs []netip.Prefix, on bool) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("masquerade: nftables: %w", err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: masqueradeTable}
	// Adding before deleting makes the delete valid whether or not the
	// table existed.
	conn.AddTable(table)
	conn.DelTable(table)
	if on {
		conn.AddTable(table)
		chain := conn.AddChain(&nftables.Chain{
			Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
		})
		for _, p := range cidrs {
			if !p.Addr().Is4() {
				continue
			}
			conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: masqueradeExprs(p.Masked())})
		}
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("masquerade: %w", err)
	}
	return nil
}

// masqueradeExprs is `ip saddr P ip daddr != P masquerade`.
func masqueradeExprs(p netip.Prefix) []expr.Any {
	mask := []byte(net.CIDRMask(p.Bits(), 32))
	network := p.Addr().AsSlice()
	field := func(offset uint32, op expr.CmpOp) []expr.Any {
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
			&expr.Cmp{Op: op, Register: 1, Data: network},
		}
	}
	exprs := field(12, expr.CmpOpEq)                   // source address
	exprs = append(exprs, field(16, expr.CmpOpNeq)...) // destination address
	return append(exprs, &expr.Masq{})
}
