package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte      // content of the file before Write; nil: no file
		oldPerm  os.FileMode // mode of the existing file
		data     []byte
		perm     os.FileMode
	}{
		{name: "new file", data: []byte("hello"), perm: 0o600},
		{name: "new empty file", data: []byte{}, perm: 0o644},
		{name: "replace tightens mode", existing: []byte("old content, longer"), oldPerm: 0o644, data: []byte("new"), perm: 0o600},
		{name: "replace loosens mode", existing: []byte("old"), oldPerm: 0o600, data: []byte("new content"), perm: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "file")
			if tt.existing != nil {
				if err := os.WriteFile(path, tt.existing, tt.oldPerm); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(path, tt.data, tt.perm); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(tt.data), string(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != tt.perm {
				t.Errorf("mode = %v, want %v", info.Mode().Perm(), tt.perm)
			}
			assertOnlyFile(t, dir, "file")
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "file"), []byte("x"), 0o600); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
	assertOnlyFile(t, dir)
}

// assertOnlyFile fails unless dir holds exactly the named entries: no
// temporary file is left behind.
func assertOnlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append([]string{}, names...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directory entries (-want +got):\n%s", diff)
	}
}
