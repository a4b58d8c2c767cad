package cache

import (
	"slices"
	"testing"
)

// TestSnapshotReportsReplacedNodes: NodeChangesSince lists the positions
// each update replaced, and admits not knowing after the node list was
// rebuilt, for changes it forgot, and for snapshots it does not keep.
func TestSnapshotReportsReplacedNodes(t *testing.T) {
	c := New(Options{})
	for _, name := range []string{"a", "b", "c"} {
		c.AddNode(makeNode(name, "4"))
	}
	s := NewSnapshot()
	c.UpdateSnapshot(s)
	expect := func(since uint64, want []int, wantOK bool) uint64 {
		t.Helper()
		got, latest, ok := s.NodeChangesSince(since)
		if ok != wantOK || (ok && !slices.Equal(got, want)) {
			t.Fatalf("NodeChangesSince(%d) = %v, %v; want %v, %v", since, got, ok, want, wantOK)
		}
		return latest
	}
	first := expect(0, nil, false) // the first update builds the list
	expect(first, []int{}, true)

	c.AddPod(makePod("p1", "b", "1"))
	c.UpdateSnapshot(s)
	second := expect(first, []int{1}, true)
	c.AddPod(makePod("p2", "c", "1"))
	c.AddPod(makePod("p3", "b", "1"))
	c.UpdateSnapshot(s)
	got := slices.Clone(expectOK(t, s, first))
	if slices.Sort(got); !slices.Equal(got, []int{1, 1, 2}) {
		t.Fatalf("changes since the first update: %v, want b twice and c", got)
	}
	got = slices.Clone(expectOK(t, s, second))
	third := second + 1
	if slices.Sort(got); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("changes since the second update: %v, want b and c", got)
	}
	expect(third+1, nil, false) // an update the snapshot never made

	c.AddNode(makeNode("d", "4"))
	c.UpdateSnapshot(s)
	fourth := expect(third, nil, false)
	expect(fourth, []int{}, true)

	// Past maxLoggedChanges the oldest half is forgotten.
	q := makePod("q", "a", "1")
	for i := range maxLoggedChanges + 1 {
		if i%2 == 0 {
			c.AddPod(q)
		} else {
			c.RemovePod(q)
		}
		c.UpdateSnapshot(s)
	}
	expect(fourth, nil, false)
	_, latest, _ := s.NodeChangesSince(0)
	expect(latest-1, []int{0}, true)

	if _, _, ok := NewSnapshotOf(s.all.items...).NodeChangesSince(0); ok {
		t.Fatal("a snapshot over given NodeInfos reported changes")
	}
}

func expectOK(t *testing.T, s *Snapshot, since uint64) []int {
	t.Helper()
	got, _, ok := s.NodeChangesSince(since)
	if !ok {
		t.Fatalf("NodeChangesSince(%d) does not know", since)
	}
	return got
}
