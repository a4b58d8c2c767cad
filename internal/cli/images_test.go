package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

func TestImagesImportNoRuntime(t *testing.T) {
	dataDir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"images", "import", "--data-dir", dataDir, "x.tar"}, &stdout, &stderr)
	want := "no container runtime at " + filepath.Join(dataDir, "agent", "containerd", "containerd.sock")
	if code != ExitError || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want an error containing %q", code, stderr.String(), want)
	}
	stderr.Reset()
	if code := Main(context.Background(), []string{"images", "import"}, &stdout, &stderr); code != ExitError {
		t.Errorf("import without files: exit %d, want %d", code, ExitError)
	}
}

func TestImagesImport(t *testing.T) {
	r := containerdtest.Start(t)
	archive := filepath.Join(t.TempDir(), "hello.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	err = images.WriteArchive(f, images.Image{
		Refs:  []string{"tug.local/hello:1"},
		Files: []images.File{{Path: "/hello", Mode: 0o644, Data: []byte("hello")}},
	})
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), []string{"images", "import", "--container-runtime-endpoint", r.Endpoint, archive}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if want := "imported " + archive + ": tug.local/hello:1\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	st, err := r.Client.Images.ImageStatus(t.Context(), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "tug.local/hello:1"}})
	if err != nil || st.GetImage() == nil {
		t.Errorf("image after import: %v, %v", st, err)
	}
}
