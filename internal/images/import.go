package images

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/runtime/cri"
)

// Namespace is the containerd namespace the CRI plugin keeps its images in.
const Namespace = "k8s.io"

// importWait bounds the wait for the CRI plugin to list an imported image;
// it learns of new images from containerd's events, a moment after ctr
// returns.
const importWait = 30 * time.Second

// Import imports the image archives files (docker-archive or OCI tarballs)
// into the k8s.io namespace of the containerd at endpoint ("unix:///path"
// or a path), unpacked for the snapshotter the CRI plugin uses, and returns
// once the CRI plugin lists every image the archives name. It runs ctr,
// which ships with containerd.
func Import(ctx context.Context, endpoint string, files ...string) error {
	if len(files) == 0 {
		return nil
	}
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		return errors.New("import images: ctr is not on PATH (it ships with containerd): apt-get install containerd")
	}
	var refs []string
	for _, f := range files {
		r, err := ArchiveRefs(f)
		if err != nil {
			return fmt.Errorf("import images: %w", err)
		}
		refs = append(refs, r...)
	}
	client, err := cri.Dial(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("import images: %w", err)
	}
	defer func() { _ = client.Close() }() // nothing is written through it

	snapshotter, err := criSnapshotter(ctx, client)
	if err != nil {
		return fmt.Errorf("import images: %w", err)
	}
	start := time.Now()
	// ctr imports one archive per run.
	for _, f := range files {
		args := []string{"--address", strings.TrimPrefix(endpoint, "unix://"), "--namespace", Namespace,
			"images", "import", "--snapshotter", snapshotter, f}
		out, err := exec.CommandContext(ctx, ctr, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("import image %s: %w: %s", f, err, strings.TrimSpace(string(out)))
		}
	}
	if err := waitForImages(ctx, client, refs); err != nil {
		return fmt.Errorf("import images %s: %w", strings.Join(files, ", "), err)
	}
	klog.FromContext(ctx).V(2).Info("Imported images", "files", files, "images", refs, "duration", time.Since(start))
	return nil
}

// ImportDir imports every <dir>/*.tar, in name order; a missing or empty
// directory imports nothing.
func ImportDir(ctx context.Context, endpoint, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil {
		return fmt.Errorf("import images from %s: %w", dir, err)
	}
	return Import(ctx, endpoint, files...)
}

// EnsurePause imports the pause image (PauseImageRef) unless the runtime
// at endpoint has it already. The archive is written to a temporary file
// in scratchDir, which must exist, and removed after.
func EnsurePause(ctx context.Context, endpoint, scratchDir string) error {
	client, err := cri.Dial(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("ensure pause image: %w", err)
	}
	defer func() { _ = client.Close() }() // nothing is written through it
	if ok, err := hasImage(ctx, client, PauseImageRef); err != nil || ok {
		if err != nil {
			return fmt.Errorf("ensure pause image: %w", err)
		}
		return nil
	}
	archive, err := PauseArchive()
	if err != nil {
		return fmt.Errorf("ensure pause image: %w", err)
	}
	f, err := os.CreateTemp(scratchDir, "pause-*.tar")
	if err != nil {
		return fmt.Errorf("ensure pause image: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // a leftover is harmless
	_, err = f.Write(archive)
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("ensure pause image: %w", err)
	}
	return Import(ctx, endpoint, f.Name())
}

// hasImage asks the CRI runtime whether it has image ref.
func hasImage(ctx context.Context, client *cri.Client, ref string) (bool, error) {
	resp, err := client.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		return false, fmt.Errorf("image status %s: %w", ref, err)
	}
	return resp.GetImage() != nil, nil
}

// waitForImages polls until the CRI runtime has every image of refs.
func waitForImages(ctx context.Context, client *cri.Client, refs []string) error {
	ctx, cancel := context.WithTimeout(ctx, importWait)
	defer cancel()
	for _, ref := range refs {
		for {
			ok, err := hasImage(ctx, client, ref)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("image %s was imported but the CRI runtime does not list it: %w", ref, ctx.Err())
			// The plugin hears of the image within milliseconds; a local
			// ImageStatus call is cheap.
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}

// criSnapshotter returns the snapshotter the CRI plugin unpacks images
// for, from its verbose status, so that ctr unpacks for the same one
// (ctr's own default is overlayfs, which a node may not support).
func criSnapshotter(ctx context.Context, client *cri.Client) (string, error) {
	resp, err := client.Runtime.Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		return "", fmt.Errorf("runtime status: %w", err)
	}
	var cfg struct {
		Containerd struct {
			Snapshotter string `json:"snapshotter"`
		} `json:"containerd"`
	}
	if err := json.Unmarshal([]byte(resp.GetInfo()["config"]), &cfg); err != nil {
		return "", fmt.Errorf("runtime status: config: %w", err)
	}
	if cfg.Containerd.Snapshotter == "" {
		return "", errors.New("runtime status names no snapshotter")
	}
	return cfg.Containerd.Snapshotter, nil
}

// ArchiveRefs returns the image names an archive (docker-archive or OCI,
// plain or gzip-compressed tar) gives its images: docker's RepoTags, or the
// OCI index's io.containerd.image.name annotations. OCI images named only
// by a tag are left out: ctr names those itself.
func ArchiveRefs(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s has neither manifest.json nor index.json: not an image archive", file)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "manifest.json":
			var m []archiveManifest
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				return nil, fmt.Errorf("read %s: manifest.json: %w", file, err)
			}
			var refs []string
			for _, img := range m {
				refs = append(refs, img.RepoTags...)
			}
			return refs, nil
		case "index.json":
			var idx struct {
				Manifests []struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"manifests"`
			}
			if err := json.NewDecoder(tr).Decode(&idx); err != nil {
				return nil, fmt.Errorf("read %s: index.json: %w", file, err)
			}
			var refs []string
			for _, m := range idx.Manifests {
				if name := m.Annotations["io.containerd.image.name"]; name != "" {
					refs = append(refs, name)
				}
			}
			return refs, nil
		}
	}
}
