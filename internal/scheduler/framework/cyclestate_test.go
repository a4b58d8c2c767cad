package framework

import "testing"

// TestCycleStateRewrite: writing a key again replaces its entry, and does
// not reach a clone taken before.
func TestCycleStateRewrite(t *testing.T) {
	c := NewCycleState()
	c.Write("a", &counter{n: 1})
	c.Write("b", &counter{n: 2})
	clone := c.Clone()
	c.Write("b", &counter{n: 20})
	if v, err := c.Read("b"); err != nil || v.(*counter).n != 20 {
		t.Errorf("Read(b) = %v, %v; want 20", v, err)
	}
	if v, _ := clone.Read("b"); v.(*counter).n != 2 {
		t.Errorf("the clone's b = %d, want 2", v.(*counter).n)
	}
	if n := len(*c.data.Load()); n != 2 {
		t.Errorf("%d entries, want 2: the rewrite added one", n)
	}
}

// BenchmarkCycleStateRead reads each entry a cycle of the default profile
// may hold, as filter and score plugins do once per node.
func BenchmarkCycleStateRead(b *testing.B) {
	c := NewCycleState()
	keys := []StateKey{"PreFilterNodeResourcesFit", "PreFilterNodePorts", "PreFilterPodTopologySpread",
		"PreFilterInterPodAffinity", "PreScoreTaintToleration", "PreScorePodTopologySpread", "PreScoreNodeResourcesFit"}
	for _, k := range keys {
		c.Write(k, &counter{})
	}
	for b.Loop() {
		for _, k := range keys {
			if _, err := c.Read(k); err != nil {
				b.Fatal(err)
			}
		}
	}
}
