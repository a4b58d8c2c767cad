// Package proxytest gives the service proxy's tests and benchmark network
// namespaces of their own: a node with clients and backends behind veths,
// servers that say who they are and who called, clients that classify
// failures, and the node's nftables table as data. Traffic never leaves
// the namespaces it creates.
package proxytest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Netns is a network namespace created by Create; iproute2 keeps it at
// /run/netns/<Name>.
type Netns struct {
	// Name is the namespace's name for `ip netns`.
	Name string
	// File is the namespace held open, for nftables.WithNetNSFd.
	File *os.File
}

// Create makes a network namespace named prefix-<random> with its loopback
// up.
func Create(prefix string) (*Netns, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	name := prefix + "-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", name, err, out)
	}
	n := &Netns{Name: name}
	f, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return nil, errors.Join(err, n.Delete())
	}
	n.File = f
	if _, err := n.Exec("ip", "link", "set", "lo", "up"); err != nil {
		return nil, errors.Join(err, n.Delete())
	}
	return n, nil
}

// Delete closes and deletes the namespace; links in it go with it.
func (n *Netns) Delete() error {
	var err error
	if n.File != nil {
		err = n.File.Close()
	}
	if out, derr := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); derr != nil {
		err = errors.Join(err, fmt.Errorf("ip netns del %s: %w: %s", n.Name, derr, out))
	}
	return err
}

// Fd is the namespace's file descriptor.
func (n *Netns) Fd() int { return int(n.File.Fd()) }

// Command returns a command that runs inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Exec runs a command inside the namespace and returns its output.
func (n *Netns) Exec(name string, args ...string) (string, error) {
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), n.Name, err, out)
	}
	return string(out), nil
}

// New creates a namespace that is deleted when the test ends.
func New(t testing.TB) *Netns {
	t.Helper()
	n, err := Create("tugp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Delete(); err != nil {
			t.Errorf("clean-up: %v", err)
		}
	})
	return n
}

// MustExec runs a command inside the namespace and fails the test on error.
func (n *Netns) MustExec(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Exec(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
