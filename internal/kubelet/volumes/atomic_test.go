package volumes

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// visible reads every visible name of a volume through its symlinks:
// name -> content (nested dirs flattened as a/b).
func visible(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		root := filepath.Join(dir, e.Name())
		err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if path == root && info.Mode()&os.ModeSymlink != 0 {
				// Walk does not follow the top-level link; restart through it.
				target, err := filepath.EvalSymlinks(root)
				if err != nil {
					return err
				}
				return filepath.Walk(target, func(p string, i os.FileInfo, err error) error {
					if err != nil || i.IsDir() {
						return err
					}
					rel, _ := filepath.Rel(target, p)
					data, err := os.ReadFile(p)
					out[filepath.Join(e.Name(), rel)] = string(data)
					return err
				})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Single files come out as name/. ; normalise.
	norm := map[string]string{}
	for k, v := range out {
		norm[strings.TrimSuffix(k, "/.")] = v
	}
	return norm
}

func hidden(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

func TestAtomicWriterLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	w := &atomicWriter{dir: dir, now: testNow}
	err := w.write(map[string]file{
		"a":          {data: []byte("A"), mode: 0o644},
		"sub/b":      {data: []byte("B"), mode: 0o400},
		"sub/deep/c": {data: []byte("C"), mode: 0o600},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "A", "sub/b": "B", "sub/deep/c": "C"}, visible(t, dir)); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	ts, err := os.Readlink(filepath.Join(dir, "..data"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ts, "..2030_01_02_03_04_05.") {
		t.Errorf("..data -> %q, want a dir named after the time", ts)
	}
	for name, want := range map[string]string{"a": "..data/a", "sub": "..data/sub"} {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", name, got, err, want)
		}
	}
	if diff := cmp.Diff([]string{ts, "..data"}, hidden(t, dir)); diff != "" {
		t.Errorf("hidden entries (-want +got):\n%s", diff)
	}
	for path, want := range map[string]os.FileMode{"a": 0o644, "sub/b": 0o400, "sub/deep/c": 0o600} {
		info, err := os.Stat(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("mode of %s = %v, want %v", path, info.Mode().Perm(), want)
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o777 {
		t.Errorf("volume dir mode = %v (%v), want 0777", info.Mode().Perm(), err)
	}
}

func TestAtomicWriterUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	w := &atomicWriter{dir: dir, now: testNow}
	if err := w.write(map[string]file{"keep": {data: []byte("1"), mode: 0o644}, "gone": {data: []byte("x"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	oldTS, _ := os.Readlink(filepath.Join(dir, "..data"))

	// Unchanged content is not rewritten.
	w.now = testNow.Add(time.Minute)
	if err := w.write(map[string]file{"keep": {data: []byte("1"), mode: 0o644}, "gone": {data: []byte("x"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if ts, _ := os.Readlink(filepath.Join(dir, "..data")); ts != oldTS {
		t.Fatalf("unchanged payload rewrote the volume: %s -> %s", oldTS, ts)
	}

	// A mode change alone is a change.
	if err := w.write(map[string]file{"keep": {data: []byte("1"), mode: 0o600}, "gone": {data: []byte("x"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	midTS, _ := os.Readlink(filepath.Join(dir, "..data"))
	if midTS == oldTS {
		t.Fatal("a mode change did not rewrite the volume")
	}

	swapped := false
	w.beforeSwap = func() {
		swapped = true
		// Readers still see the whole old set while the new one is ready.
		if diff := cmp.Diff(map[string]string{"keep": "1", "gone": "x"}, visible(t, dir)); diff != "" {
			t.Errorf("content before the swap (-want +got):\n%s", diff)
		}
		if len(hidden(t, dir)) != 3 {
			t.Errorf("hidden entries before the swap = %v, want ..data and two timestamped dirs", hidden(t, dir))
		}
	}
	w.now = testNow.Add(2 * time.Minute)
	if err := w.write(map[string]file{"keep": {data: []byte("2"), mode: 0o600}, "new": {data: []byte("n"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if !swapped {
		t.Fatal("beforeSwap was not called")
	}
	w.beforeSwap = nil
	if diff := cmp.Diff(map[string]string{"keep": "2", "new": "n"}, visible(t, dir)); diff != "" {
		t.Errorf("content after the update (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("the removed key's link remains: %v", err)
	}
	newTS, _ := os.Readlink(filepath.Join(dir, "..data"))
	if diff := cmp.Diff([]string{newTS, "..data"}, hidden(t, dir)); diff != "" {
		t.Errorf("hidden entries after the update (-want +got):\n%s", diff)
	}

	// Everything removed: an empty volume.
	if err := w.write(map[string]file{}); err != nil {
		t.Fatal(err)
	}
	if got := visible(t, dir); len(got) != 0 {
		t.Errorf("content after emptying = %v", got)
	}
}

func TestAtomicWriterFSGroup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	gid := int64(4321)
	uid := int64(1234)
	w := &atomicWriter{dir: dir, now: testNow, fsGroup: &gid}
	if err := w.write(map[string]file{
		"secret": {data: []byte("s"), mode: 0o400},
		"token":  {data: []byte("t"), mode: 0o600, uid: &uid},
		"d/open": {data: []byte("o"), mode: 0o644},
	}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		mode     os.FileMode
		uid, gid uint32
	}{
		"secret": {0o440, 0, 4321},
		"token":  {0o640, 1234, 4321},
		"d/open": {0o644, 0, 4321},
	} {
		info, err := os.Stat(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if info.Mode().Perm() != want.mode || st.Uid != want.uid || st.Gid != want.gid {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", path, info.Mode().Perm(), st.Uid, st.Gid, want.mode, want.uid, want.gid)
		}
	}
	for _, d := range []string{".", "..data", "d"} {
		info, err := os.Stat(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode()&os.ModeSetgid == 0 || info.Sys().(*syscall.Stat_t).Gid != 4321 {
			t.Errorf("dir %s: mode %v gid %d, want setgid and group 4321", d, info.Mode(), info.Sys().(*syscall.Stat_t).Gid)
		}
	}
	// Ownership is part of "unchanged": same payload, no rewrite.
	ts, _ := os.Readlink(filepath.Join(dir, "..data"))
	w.now = testNow.Add(time.Hour)
	if err := w.write(map[string]file{
		"secret": {data: []byte("s"), mode: 0o400},
		"token":  {data: []byte("t"), mode: 0o600, uid: &uid},
		"d/open": {data: []byte("o"), mode: 0o644},
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "..data")); got != ts {
		t.Errorf("unchanged payload with fsGroup rewrote the volume")
	}
}

func TestAtomicWriterRejectsPaths(t *testing.T) {
	for _, p := range []string{"", "/abs", "../up", "a/../../b", "..hidden", "a//b", "a/./b"} {
		w := &atomicWriter{dir: filepath.Join(t.TempDir(), "vol"), now: testNow}
		if err := w.write(map[string]file{p: {data: []byte("x"), mode: 0o644}}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}

func TestAtomicWriterRefusesToReplaceFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &atomicWriter{dir: dir, now: testNow}
	if err := w.write(map[string]file{"k": {data: []byte("x"), mode: 0o644}}); err == nil {
		t.Error("a regular file in the volume was replaced by a link")
	}
}
