package images

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPauseELFStructure checks both architectures' programs with Go's ELF
// reader: what the kernel's loader looks at.
func TestPauseELFStructure(t *testing.T) {
	for goarch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		t.Run(goarch, func(t *testing.T) {
			bin, err := PauseELF(goarch)
			if err != nil {
				t.Fatal(err)
			}
			if len(bin) >= 1024 {
				t.Errorf("pause is %d bytes, want < 1 KiB", len(bin))
			}
			f, err := elf.NewFile(bytes.NewReader(bin))
			if err != nil {
				t.Fatal(err)
			}
			if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_EXEC || f.Machine != machine {
				t.Errorf("header = %+v", f.FileHeader)
			}
			var load *elf.Prog
			for _, p := range f.Progs {
				switch p.Type {
				case elf.PT_LOAD:
					load = p
				case elf.PT_INTERP, elf.PT_DYNAMIC:
					t.Errorf("program header %v: pause must be static", p.Type)
				case elf.PT_GNU_STACK:
					if p.Flags&elf.PF_X != 0 {
						t.Error("executable stack")
					}
				}
			}
			if load == nil {
				t.Fatal("no PT_LOAD")
			}
			if load.Flags != elf.PF_R|elf.PF_X || load.Off != 0 || load.Filesz != uint64(len(bin)) || load.Vaddr%load.Align != 0 {
				t.Errorf("PT_LOAD = %+v", load.ProgHeader)
			}
			if f.Entry < load.Vaddr+pauseHeader || f.Entry >= load.Vaddr+load.Filesz {
				t.Errorf("entry %#x is not in the code at %#x", f.Entry, load.Vaddr+pauseHeader)
			}
		})
	}
	if _, err := PauseELF("riscv64"); err == nil {
		t.Error("PauseELF(riscv64) succeeded, want an error")
	}
}

// TestPauseRuns executes the program for this machine: it keeps sleeping
// (SIGTERM and friends are the kernel's business, see pauseCode) until
// SIGKILL ends it.
func TestPauseRuns(t *testing.T) {
	bin, err := PauseELF(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// It reaches its syscall and sleeps there: state S in /proc, which a
	// busy loop or a crash would never show.
	stat := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "stat")
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(stat)
		if err != nil {
			t.Fatalf("pause is gone: %v (exit: %v)", err, <-exited)
		}
		// pid (comm) state ...
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if fields[0] == "S" {
			break
		}
		if fields[0] == "Z" || time.Now().After(deadline) {
			t.Fatalf("pause state %s, want S (sleeping)", fields[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-exited:
		t.Fatalf("pause exited: %v", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("pause ended with %v, want death by SIGKILL", err)
	}
}
