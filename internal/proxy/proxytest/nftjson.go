package proxytest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Table is an nftables table as `nft -j list table` reports it.
type Table struct {
	// Chains are the table's chains by name, each with its rules in order.
	Chains map[string][]Rule
	// Sets are the table's named sets and maps by name, with their
	// elements as JSON.
	Sets map[string][]json.RawMessage
}

// Rule is one rule of a chain.
type Rule struct {
	// Handle is the kernel's handle: a rule written again gets a new one,
	// so equal handles mean the rule was left alone.
	Handle int
	// Expr is the rule's expressions as JSON.
	Expr json.RawMessage
}

// Rules is the total number of rules.
func (t *Table) Rules() int {
	n := 0
	for _, rs := range t.Chains {
		n += len(rs)
	}
	return n
}

// ListTable reads table (family ip) in n, or returns nil when there is no
// such table.
func (n *Netns) ListTable(t testing.TB, table string) *Table {
	t.Helper()
	out, err := n.Command("nft", "-j", "list", "table", "ip", table).Output()
	if err != nil {
		return nil
	}
	tab, err := ParseTable(out)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// ParseTable reads the output of `nft -j list table`.
func ParseTable(data []byte) (*Table, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse nft -j output: %w", err)
	}
	t := &Table{Chains: map[string][]Rule{}, Sets: map[string][]json.RawMessage{}}
	for _, obj := range doc.Nftables {
		for kind, raw := range obj {
			var v struct {
				Name   string            `json:"name"`
				Chain  string            `json:"chain"`
				Handle int               `json:"handle"`
				Expr   json.RawMessage   `json:"expr"`
				Elem   []json.RawMessage `json:"elem"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("parse nft -j %s: %w", kind, err)
			}
			switch kind {
			case "chain":
				if _, ok := t.Chains[v.Name]; !ok {
					t.Chains[v.Name] = nil
				}
			case "rule":
				t.Chains[v.Chain] = append(t.Chains[v.Chain], Rule{Handle: v.Handle, Expr: v.Expr})
			case "set", "map":
				t.Sets[v.Name] = v.Elem
			}
		}
	}
	return t, nil
}
