package images

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
)

// BusyboxPath is where Debian's busybox-static installs busybox.
const BusyboxPath = "/bin/busybox"

// BusyboxImage returns an image named ref around the host's static
// busybox: /bin/busybox with a symlink per applet (sh, ls, sleep, httpd,
// nc, wget, ...), /etc/passwd and /etc/group with root and nobody, a
// world-writable /tmp, PATH=/bin and Cmd ["sh"]. Tests and benchmarks run
// it; it needs busybox-static installed, and says so when it is missing.
func BusyboxImage(ref string) (Image, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Image{}, fmt.Errorf("busybox image: %s is missing: apt-get install busybox-static", BusyboxPath)
	}
	if err != nil {
		return Image{}, fmt.Errorf("busybox image: %w", err)
	}
	if err := checkStatic(BusyboxPath); err != nil {
		return Image{}, fmt.Errorf("busybox image: %w", err)
	}
	// The applets this busybox was built with, one name a line.
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return Image{}, fmt.Errorf("busybox image: %s --list: %w", BusyboxPath, err)
	}
	files := []File{
		{Path: "/bin", Mode: fs.ModeDir | 0o755},
		{Path: "/bin/busybox", Mode: 0o755, Data: bin},
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		files = append(files, File{Path: "/bin/" + applet, Linkname: "busybox"})
	}
	files = append(files,
		File{Path: "/etc", Mode: fs.ModeDir | 0o755},
		File{Path: "/etc/passwd", Mode: 0o644, Data: []byte(
			"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		File{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		File{Path: "/root", Mode: fs.ModeDir | 0o700},
		File{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	)
	return Image{
		Refs:   []string{ref},
		Files:  files,
		Config: ImageConfig{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}},
	}, nil
}

// checkStatic fails for a dynamically linked program, which would not find
// its libraries in the image: Debian's "busybox" package installs one, the
// "busybox-static" package the static one.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: apt-get install busybox-static", path)
		}
	}
	return nil
}
