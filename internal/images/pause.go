package images

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
)

// PauseImageRef names the image of every pod sandbox's container, the one
// that holds the pod's namespaces. tug makes it itself (PauseArchive), so a
// node needs no registry to start pods.
const PauseImageRef = "tug.local/pause:1"

// pauseUser is the pause process's user and group: nobody needs to own it.
const pauseUser = "65535:65535"

// PauseImage is the pause image: a static /pause for runtime.GOARCH.
func PauseImage() (Image, error) {
	bin, err := PauseELF(runtime.GOARCH)
	if err != nil {
		return Image{}, err
	}
	return Image{
		Refs:   []string{PauseImageRef},
		Files:  []File{{Path: "/pause", Mode: 0o555, Data: bin}},
		Config: ImageConfig{Entrypoint: []string{"/pause"}, User: pauseUser},
	}, nil
}

// PauseArchive returns the pause image as an archive for Import.
func PauseArchive() ([]byte, error) {
	img, err := PauseImage()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// The pause program sleeps in the kernel forever:
//
//	loop: pause()                          // amd64: syscall 34
//	      ppoll(NULL, 0, NULL, NULL)       // arm64 has no pause: syscall 73
//	      goto loop
//
// It installs no signal handlers, on purpose. As PID 1 of the pod's PID
// namespace (or of its own container's), the kernel drops every signal it
// has no handler for, except SIGKILL from outside; so SIGTERM and SIGINT do
// not end it, and the runtime ends a sandbox with SIGKILL anyway (containerd's
// StopPodSandbox sends SIGKILL to the sandbox container). A handler that
// exits 0 would only matter for a pause run outside a PID namespace, which
// default signal actions end already. No handler means no code that can be
// wrong: the program is three instructions.
var pauseCode = map[string]struct {
	machine uint16 // ELF e_machine
	align   uint64 // largest page size of the architecture
	code    []byte
}{
	"amd64": {machine: 62, align: 0x1000, code: []byte{
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp -9 (back to mov)
	}},
	"arm64": {machine: 183, align: 0x10000, code: le32(
		0xd2800928, // movz x8, #73 (ppoll)
		0xd2800000, // movz x0, #0: fds = NULL
		0xd2800001, // movz x1, #0: nfds = 0
		0xd2800002, // movz x2, #0: timeout = NULL, block forever
		0xd2800003, // movz x3, #0: sigmask = NULL
		0xd4000001, // svc #0
		0x17fffffa, // b -24 (back to the first movz)
	)},
}

func le32(words ...uint32) []byte {
	b := make([]byte, 0, 4*len(words))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// ELF64 layout: the file header, two program headers, then the code. The
// whole file is mapped read+execute at pauseBase; the second header only
// asks for a non-executable stack.
const (
	pauseBase   = 0x400000
	ehdrSize    = 64
	phdrSize    = 56
	pauseHeader = ehdrSize + 2*phdrSize
)

// PauseELF returns the pause program as a static ELF64 executable for goarch
// ("amd64" or "arm64"): a couple of hundred bytes.
func PauseELF(goarch string) ([]byte, error) {
	a, ok := pauseCode[goarch]
	if !ok {
		return nil, fmt.Errorf("pause program: architecture %s is not supported (amd64, arm64 are)", goarch)
	}
	size := uint64(pauseHeader + len(a.code))
	le := binary.LittleEndian
	b := make([]byte, 0, size)
	// File header.
	b = append(b, 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* System V ABI */)
	b = append(b, make([]byte, 8)...)             // ABI version, padding
	b = le.AppendUint16(b, 2)                     // e_type: executable
	b = le.AppendUint16(b, a.machine)             // e_machine
	b = le.AppendUint32(b, 1)                     // e_version
	b = le.AppendUint64(b, pauseBase+pauseHeader) // e_entry: the code
	b = le.AppendUint64(b, ehdrSize)              // e_phoff
	b = le.AppendUint64(b, 0)                     // e_shoff: no sections
	b = le.AppendUint32(b, 0)                     // e_flags
	b = le.AppendUint16(b, ehdrSize)              // e_ehsize
	b = le.AppendUint16(b, phdrSize)              // e_phentsize
	b = le.AppendUint16(b, 2)                     // e_phnum
	b = le.AppendUint16(b, 64)                    // e_shentsize
	b = le.AppendUint16(b, 0)                     // e_shnum
	b = le.AppendUint16(b, 0)                     // e_shstrndx
	// PT_LOAD: the whole file, read and execute.
	b = le.AppendUint32(b, 1)         // p_type
	b = le.AppendUint32(b, 4|1)       // p_flags: R, X
	b = le.AppendUint64(b, 0)         // p_offset
	b = le.AppendUint64(b, pauseBase) // p_vaddr
	b = le.AppendUint64(b, pauseBase) // p_paddr
	b = le.AppendUint64(b, size)      // p_filesz
	b = le.AppendUint64(b, size)      // p_memsz
	b = le.AppendUint64(b, a.align)   // p_align
	// PT_GNU_STACK: the stack is read and write, not executable.
	b = le.AppendUint32(b, 0x6474e551)
	b = le.AppendUint32(b, 4|2)
	b = append(b, make([]byte, 5*8)...)
	b = le.AppendUint64(b, 16)
	return append(b, a.code...), nil
}
