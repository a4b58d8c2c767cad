package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readTar returns the entries of a tar archive by name.
func readTar(t *testing.T, data []byte) (map[string]*tar.Header, map[string][]byte, []string) {
	t.Helper()
	headers, contents := map[string]*tar.Header{}, map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return headers, contents, order
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		headers[hdr.Name], contents[hdr.Name] = hdr, body
		order = append(order, hdr.Name)
	}
}

func TestWriteArchive(t *testing.T) {
	img := Image{
		Refs: []string{"tug.local/test:1", "tug.local/test:latest"},
		Files: []File{
			{Path: "/usr/bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hello\n")},
			{Path: "usr/bin/hi", Linkname: "hello"},
			{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
			{Path: "/etc/motd", Mode: 0o644, Data: []byte("hi\n")},
		},
		Config: ImageConfig{Entrypoint: []string{"/usr/bin/hello"}, Cmd: []string{"x"}, Env: []string{"A=1"}, WorkingDir: "/tmp", User: "1000:1000"},
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := WriteArchive(&again, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two archives of one image differ: re-imports would not be no-ops")
	}

	_, files, _ := readTar(t, buf.Bytes())
	var manifest []archiveManifest
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest = %+v, want one image with one layer", manifest)
	}
	m := manifest[0]
	if diff := cmp.Diff(img.Refs, m.RepoTags); diff != "" {
		t.Errorf("RepoTags (-want +got):\n%s", diff)
	}
	cfgData, layer := files[m.Config], files[m.Layers[0]]
	if cfgData == nil || layer == nil {
		t.Fatalf("archive lacks %s or %s", m.Config, m.Layers[0])
	}
	// The config's name is its digest, and its diff_id the layer's.
	if sum := sha256.Sum256(cfgData); m.Config != hex.EncodeToString(sum[:])+".json" {
		t.Errorf("config file %s is not named by its digest", m.Config)
	}
	var cfg imageConfigFile
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		t.Fatal(err)
	}
	layerSum := sha256.Sum256(layer)
	if diff := cmp.Diff([]string{"sha256:" + hex.EncodeToString(layerSum[:])}, cfg.RootFS.DiffIDs); diff != "" {
		t.Errorf("diff_ids (-want +got):\n%s", diff)
	}
	if cfg.Architecture != runtime.GOARCH || cfg.OS != "linux" || cfg.RootFS.Type != "layers" {
		t.Errorf("config platform = %s/%s rootfs %s", cfg.OS, cfg.Architecture, cfg.RootFS.Type)
	}
	if diff := cmp.Diff(img.Config, cfg.Config); diff != "" {
		t.Errorf("runtime config (-want +got):\n%s", diff)
	}

	headers, contents, order := readTar(t, layer)
	wantOrder := []string{"usr/", "usr/bin/", "usr/bin/hello", "usr/bin/hi", "tmp/", "etc/", "etc/motd"}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
	type entry struct {
		Type     byte
		Mode     int64
		Linkname string
		Data     string
	}
	got := map[string]entry{}
	for name, h := range headers {
		got[name] = entry{h.Typeflag, h.Mode, h.Linkname, string(contents[name])}
	}
	want := map[string]entry{
		"usr/":          {tar.TypeDir, 0o755, "", ""},
		"usr/bin/":      {tar.TypeDir, 0o755, "", ""},
		"usr/bin/hello": {tar.TypeReg, 0o755, "", "#!/bin/sh\necho hello\n"},
		"usr/bin/hi":    {tar.TypeSymlink, 0o777, "hello", ""},
		"tmp/":          {tar.TypeDir, 0o1777, "", ""},
		"etc/":          {tar.TypeDir, 0o755, "", ""},
		"etc/motd":      {tar.TypeReg, 0o644, "", "hi\n"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}

	refs, err := writeAndReadRefs(t, buf.Bytes())
	if err != nil || !cmp.Equal(refs, img.Refs) {
		t.Errorf("ArchiveRefs = %v, %v; want %v", refs, err, img.Refs)
	}
}

func writeAndReadRefs(t *testing.T, archive []byte) ([]string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	return ArchiveRefs(path)
}

func TestWriteArchiveErrors(t *testing.T) {
	tests := []struct {
		name string
		img  Image
	}{
		{"no ref", Image{Files: []File{{Path: "/a", Mode: 0o644}}}},
		{"outside", Image{Refs: []string{"x:1"}, Files: []File{{Path: "../a", Mode: 0o644}}}},
		{"root", Image{Refs: []string{"x:1"}, Files: []File{{Path: "/", Mode: fs.ModeDir | 0o755}}}},
		{"twice", Image{Refs: []string{"x:1"}, Files: []File{{Path: "/a", Mode: 0o644}, {Path: "a", Mode: 0o644}}}},
		{"dir after contents", Image{Refs: []string{"x:1"}, Files: []File{{Path: "/d/a", Mode: 0o644}, {Path: "/d", Mode: fs.ModeDir | 0o700}}}},
		{"device", Image{Refs: []string{"x:1"}, Files: []File{{Path: "/dev/null", Mode: fs.ModeDevice | 0o666}}}},
	}
	for _, tt := range tests {
		if err := WriteArchive(io.Discard, tt.img); err == nil {
			t.Errorf("%s: WriteArchive succeeded, want an error", tt.name)
		}
	}
}

func TestArchiveRefsOCI(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	index := []byte(`{"schemaVersion":2,"manifests":[
		{"annotations":{"io.containerd.image.name":"docker.io/library/app:2","org.opencontainers.image.ref.name":"2"}},
		{"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}`)
	for name, data := range map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": index} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	refs, err := writeAndReadRefs(t, buf.Bytes())
	if err != nil || !cmp.Equal(refs, []string{"docker.io/library/app:2"}) {
		t.Errorf("ArchiveRefs = %v, %v; want the named image only", refs, err)
	}
	if _, err := writeAndReadRefs(t, []byte("not a tar")); err == nil {
		t.Error("ArchiveRefs of garbage succeeded")
	}
}

func TestBusyboxImage(t *testing.T) {
	img, err := BusyboxImage("tug.local/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]File{}
	for _, f := range img.Files {
		byPath[f.Path] = f
	}
	if bb := byPath["/bin/busybox"]; len(bb.Data) < 100_000 || bb.Mode != 0o755 {
		t.Errorf("/bin/busybox: %d bytes, mode %v", len(bb.Data), bb.Mode)
	}
	for _, applet := range []string{"sh", "ls", "cat", "echo", "sleep", "httpd", "nc", "wget", "ip", "ping", "id", "hostname"} {
		if f, ok := byPath["/bin/"+applet]; !ok || f.Linkname != "busybox" {
			t.Errorf("/bin/%s = %+v, want a symlink to busybox", applet, f)
		}
	}
	if tmp := byPath["/tmp"]; tmp.Mode != fs.ModeDir|fs.ModeSticky|0o777 {
		t.Errorf("/tmp mode %v", tmp.Mode)
	}
	if diff := cmp.Diff(ImageConfig{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}}, img.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if err := WriteArchive(io.Discard, img); err != nil {
		t.Errorf("busybox image does not archive: %v", err)
	}
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic(BusyboxPath); err != nil {
		t.Errorf("%s: %v", BusyboxPath, err)
	}
	// Debian's /bin/sh (dash) is dynamically linked.
	err := checkStatic("/bin/sh")
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("busybox-static")) {
		t.Errorf("checkStatic(/bin/sh) = %v, want the dynamic-linking error naming busybox-static", err)
	}
}
