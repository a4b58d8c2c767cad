// Package images makes and imports container images without a registry:
// one-layer image archives assembled in Go (the pause image, a busybox image
// for tests), and their import into containerd's CRI namespace.
package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"time"
)

// Image is a one-layer image.
type Image struct {
	// Refs name the image, for example "tug.local/busybox:1"; a ref without
	// a registry host is read as docker.io's, as everywhere.
	Refs []string
	// Files make up the layer. Parent directories that are not listed are
	// added with mode 0755; a listed directory must come before its
	// contents.
	Files []File
	// Config is how a container of the image runs by default.
	Config ImageConfig
}

// File is one entry of an image's layer.
type File struct {
	// Path is the file's path in the image, absolute or relative to "/".
	Path string
	// Mode holds the permission bits plus fs.ModeDir for a directory,
	// fs.ModeSymlink for a symlink, and fs.ModeSticky, fs.ModeSetuid,
	// fs.ModeSetgid as usual. A set Linkname makes a symlink regardless.
	Mode fs.FileMode
	// Data is a regular file's content.
	Data []byte
	// Linkname is a symlink's target.
	Linkname string
}

// ImageConfig is the runtime part of an OCI image config.
type ImageConfig struct {
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
	User       string   `json:"User,omitempty"`
}

// The documents of a docker-archive ("docker save") tarball, which
// containerd's importer reads for any runtime version.
type (
	archiveManifest struct {
		Config   string   `json:"Config"`
		RepoTags []string `json:"RepoTags"`
		Layers   []string `json:"Layers"`
	}
	imageConfigFile struct {
		Architecture string      `json:"architecture"`
		OS           string      `json:"os"`
		Config       ImageConfig `json:"config"`
		RootFS       struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			CreatedBy string `json:"created_by"`
		} `json:"history"`
	}
)

// epoch is every entry's modification time: archives of the same image are
// byte-identical, so a re-import finds the content it already has.
var epoch = time.Unix(0, 0).UTC()

// WriteArchive writes img to w as a docker-archive tarball for the
// machine's architecture (runtime.GOARCH), with correct digests and diff
// IDs. The output depends only on img.
func WriteArchive(w io.Writer, img Image) error {
	if len(img.Refs) == 0 {
		return fmt.Errorf("image archive: no ref")
	}
	layer, err := layerTar(img.Files)
	if err != nil {
		return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
	}
	diffID := sha256.Sum256(layer)
	cfg := imageConfigFile{Architecture: runtime.GOARCH, OS: "linux", Config: img.Config}
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = []string{"sha256:" + hex.EncodeToString(diffID[:])}
	cfg.History = append(cfg.History, struct {
		CreatedBy string `json:"created_by"`
	}{CreatedBy: "tug"})
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
	}
	cfgDigest := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cfgDigest[:]) + ".json"
	layerDir := hex.EncodeToString(diffID[:])
	manifest, err := json.Marshal([]archiveManifest{{
		Config:   cfgName,
		RepoTags: img.Refs,
		Layers:   []string{layerDir + "/layer.tar"},
	}})
	if err != nil {
		return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
	}

	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{cfgName, cfgJSON},
		{layerDir + "/layer.tar", layer},
		{"manifest.json", manifest},
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: layerDir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
	}
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("image archive %s: %w", img.Refs[0], err)
	}
	return nil
}

// layerTar returns the uncompressed layer holding files and their missing
// parent directories, in the order given (parents first).
func layerTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}    // entries written
	implied := map[string]bool{} // directories added as parents
	var addDirs func(dir string) error
	addDirs = func(dir string) error {
		if dir == "." || seen[dir] {
			return nil
		}
		if err := addDirs(path.Dir(dir)); err != nil {
			return err
		}
		seen[dir], implied[dir] = true, true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	for _, f := range files {
		name := path.Clean(strings.TrimPrefix(f.Path, "/"))
		if name == "." || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("file path %q is not inside the image", f.Path)
		}
		if implied[name] {
			return nil, fmt.Errorf("directory %q listed after its contents", f.Path)
		}
		if seen[name] {
			return nil, fmt.Errorf("file %q listed twice", f.Path)
		}
		if err := addDirs(path.Dir(name)); err != nil {
			return nil, err
		}
		seen[name] = true
		hdr := &tar.Header{Name: name, Mode: tarMode(f.Mode), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case f.Linkname != "" || f.Mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Linkname, 0o777
		case f.Mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case f.Mode.IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
		default:
			return nil, fmt.Errorf("file %q: mode %v is not a regular file, directory or symlink", f.Path, f.Mode)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarMode converts Go's mode bits to the tar (Unix) ones.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
