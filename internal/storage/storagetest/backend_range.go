package storagetest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/storage"
)

// rangeKeys is the data set of the range cases: "/a/" must not match
// "/ab/x" nor "/a".
var rangeKeys = []string{"/a/3", "/a/1", "/ab/x", "/a/2", "/b/1", "/a", "/a/2/x"}

func testRange(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	for _, k := range rangeKeys {
		r.create(k, "v"+k)
	}
	cases := []struct {
		name          string
		prefix, start string
		stopAfter     int // 0: never stop
		want          []string
	}{
		{"prefix", "/a/", "", 0, []string{"/a/1", "/a/2", "/a/2/x", "/a/3"}},
		{"prefix without slash", "/a", "", 0, []string{"/a", "/a/1", "/a/2", "/a/2/x", "/a/3", "/ab/x"}},
		{"everything", "", "", 0, []string{"/a", "/a/1", "/a/2", "/a/2/x", "/a/3", "/ab/x", "/b/1"}},
		{"no match", "/c/", "", 0, nil},
		{"start key", "/a/", "/a/2", 0, []string{"/a/2", "/a/2/x", "/a/3"}},
		{"start between keys", "/a/", "/a/2\x00", 0, []string{"/a/2/x", "/a/3"}},
		{"start past the prefix", "/a/", "/a/4", 0, nil},
		{"start before the prefix", "/b/", "/a", 0, []string{"/b/1"}},
		{"early stop", "/a/", "", 2, []string{"/a/1", "/a/2"}},
		{"early stop after one", "", "/a/3", 1, []string{"/a/3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			calls := 0
			rev, err := b.Range(t.Context(), c.prefix, c.start, 0, func(kv storage.KeyValue) bool {
				calls++
				got = append(got, kv.Key)
				if string(kv.Value) != "v"+kv.Key {
					t.Errorf("key %s has value %q, want %q", kv.Key, kv.Value, "v"+kv.Key)
				}
				return c.stopAfter == 0 || calls < c.stopAfter
			})
			if err != nil {
				t.Fatalf("Range: %v", err)
			}
			if rev != r.rev() {
				t.Errorf("Range read revision %d, want the current %d", rev, r.rev())
			}
			if diff := cmp.Diff(c.want, got, kvOpts); diff != "" {
				t.Errorf("Range(%q, %q) keys (-want +got):\n%s", c.prefix, c.start, diff)
			}
		})
	}
}

// testRangeAtRevision reads every past revision of a history with
// creates, updates, deletes and re-creates and compares it to the model.
func testRangeAtRevision(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	r.create("/h/a", "a1")
	r.create("/h/b", "b1")
	r.create("/hx/outside", "x")
	r.update("/h/a", "a2")
	r.create("/h/c", "c1")
	r.delete("/h/b")
	r.update("/h/a", "a3")
	r.update("/h/c", "c2")
	r.create("/h/b", "b2")
	r.delete("/h/c")
	r.create("/h/d", "d1")

	for rev := r.base + 1; rev <= r.rev(); rev++ {
		t.Run(fmt.Sprintf("rev %d", rev), func(t *testing.T) {
			got, readRev, err := rangeAll(t.Context(), b, "/h/", "", rev)
			if err != nil {
				t.Fatalf("Range at %d: %v", rev, err)
			}
			if readRev != rev {
				t.Errorf("Range at %d read revision %d", rev, readRev)
			}
			if diff := cmp.Diff(r.snapshot(rev, "/h/"), got, kvOpts); diff != "" {
				t.Errorf("Range at %d (-want +got):\n%s", rev, diff)
			}
		})
	}
	t.Run("current", func(t *testing.T) {
		got, readRev, err := rangeAll(t.Context(), b, "/h/", "", 0)
		if err != nil {
			t.Fatalf("Range: %v", err)
		}
		if readRev != r.rev() {
			t.Errorf("Range at 0 read revision %d, want %d", readRev, r.rev())
		}
		if diff := cmp.Diff(r.snapshot(r.rev(), "/h/"), got, kvOpts); diff != "" {
			t.Errorf("Range at 0 (-want +got):\n%s", diff)
		}
	})
	t.Run("start key at an old revision", func(t *testing.T) {
		rev := r.base + 5 // a2, b1, c1
		got, _, err := rangeAll(t.Context(), b, "/h/", "/h/b", rev)
		if err != nil {
			t.Fatalf("Range: %v", err)
		}
		var want []storage.KeyValue
		for _, kv := range r.snapshot(rev, "/h/") {
			if kv.Key >= "/h/b" {
				want = append(want, kv)
			}
		}
		if diff := cmp.Diff(want, got, kvOpts); diff != "" {
			t.Errorf("Range from /h/b at %d (-want +got):\n%s", rev, diff)
		}
	})
}

func testRangeRevisionErrors(t *testing.T, f Factory) {
	b := open(t, f)
	r := newRecorder(t, b)
	r.create("/a/1", "1")
	r.create("/a/2", "2")
	for _, rev := range []int64{r.rev() + 1, r.rev() + 1000} {
		_, _, err := rangeAll(t.Context(), b, "/a/", "", rev)
		wantErr(t, fmt.Sprintf("Range at %d, current %d", rev, r.rev()), err, storage.IsTooLargeRevision, "IsTooLargeRevision")
	}
}

func testRangeCompacted(t *testing.T, f Factory) {
	b := open(t, f)
	c := compactor(t, b)
	r := newRecorder(t, b)
	r.create("/a/1", "1")
	r.update("/a/1", "2")
	r.create("/a/2", "x")
	r.update("/a/1", "3")
	r.delete("/a/2")
	compactAt := r.base + 4
	if err := c.Compact(t.Context(), compactAt); err != nil {
		t.Fatalf("Compact(%d): %v", compactAt, err)
	}
	for rev := r.base + 1; rev <= r.rev(); rev++ {
		got, _, err := rangeAll(t.Context(), b, "/a/", "", rev)
		if rev < compactAt {
			wantErr(t, fmt.Sprintf("Range at %d, compacted at %d", rev, compactAt), err, storage.IsExpired, "IsExpired")
			continue
		}
		if err != nil {
			t.Fatalf("Range at %d, compacted at %d: %v", rev, compactAt, err)
		}
		if diff := cmp.Diff(r.snapshot(rev, "/a/"), got, kvOpts); diff != "" {
			t.Errorf("Range at %d after compaction at %d (-want +got):\n%s", rev, compactAt, diff)
		}
	}
}
