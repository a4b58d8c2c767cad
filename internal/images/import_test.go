package images_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

func writeImage(t *testing.T, path string, img images.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := images.WriteArchive(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestImport runs against a private containerd, which containerdtest
// starts with EnsurePause and Import of a busybox image already done.
func TestImport(t *testing.T) {
	r := containerdtest.Start(t)
	ctx := t.Context()
	has := func(ref string) bool {
		t.Helper()
		resp, err := r.Client.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetImage() != nil
	}

	// The pause image is there: EnsurePause does not even need its
	// scratch directory.
	if err := images.EnsurePause(ctx, r.Endpoint, filepath.Join(r.Dir, "missing")); err != nil {
		t.Errorf("EnsurePause with the image present: %v", err)
	}

	dir := filepath.Join(r.Dir, "images")
	if err := images.ImportDir(ctx, r.Endpoint, dir); err != nil {
		t.Errorf("ImportDir of a missing directory: %v", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		writeImage(t, filepath.Join(dir, name+".tar"), images.Image{
			Refs:  []string{"tug.local/" + name + ":1"},
			Files: []images.File{{Path: "/" + name, Mode: 0o644, Data: []byte(name)}},
		})
	}
	// Not an archive name ImportDir reads.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := images.ImportDir(ctx, r.Endpoint, dir); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"tug.local/one:1", "tug.local/two:1"} {
		if !has(ref) {
			t.Errorf("%s was not imported", ref)
		}
	}
	// Importing again is harmless.
	if err := images.ImportDir(ctx, r.Endpoint, dir); err != nil {
		t.Errorf("second ImportDir: %v", err)
	}

	bad := filepath.Join(r.Dir, "bad.tar")
	if err := os.WriteFile(bad, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := images.Import(ctx, r.Endpoint, bad); err == nil {
		t.Error("Import of a non-archive succeeded")
	}

	t.Setenv("PATH", t.TempDir())
	err := images.Import(ctx, r.Endpoint, filepath.Join(dir, "one.tar"))
	if err == nil || !strings.Contains(err.Error(), "apt-get install containerd") {
		t.Errorf("Import without ctr: %v, want the install hint", err)
	}
}
