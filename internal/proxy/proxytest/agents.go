package proxytest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the server and the client inside namespaces:
// Main runs the role these variables name instead of the tests.
const (
	envServe = "TUG_PROXYTEST_SERVE"
	envDial  = "TUG_PROXYTEST_DIAL"
)

// Main runs a server or client role when the test binary was started as
// one by Serve or Dial, and the tests otherwise; a test package's TestMain
// is os.Exit(proxytest.Main(m)).
func Main(m *testing.M) int {
	if spec := os.Getenv(envServe); spec != "" {
		return runServer(spec)
	}
	if spec := os.Getenv(envDial); spec != "" {
		return runClient(spec)
	}
	return m.Run()
}

// Serve starts a server in n that answers on TCP and UDP port port with
// "name source-address", where the source is the peer's address as the
// server sees it. It stops when the test ends.
func (n *Netns) Serve(t testing.TB, name string, port int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := n.Command(exe)
	cmd.Env = append(os.Environ(), envServe+"="+name+" "+strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server %s in %s: %q, %v", name, n.Name, line, err)
	}
}

func runServer(spec string) int {
	name, port, _ := strings.Cut(spec, " ")
	addr := ":" + port
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(name+" "+from.(*net.UDPAddr).IP.String()+"\n"), from)
		}
	}()
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		_, _ = io.WriteString(c, name+" "+c.RemoteAddr().(*net.TCPAddr).IP.String()+"\n")
		_ = c.Close()
	}
}

// Result is what one connection got.
type Result struct {
	// Backend and Source are the server's name and the client address it
	// saw, when the connection worked.
	Backend, Source string
	// Err classifies a failure: "refused" (a reset or ICMP port
	// unreachable), "timeout", or the error's text.
	Err string
}

func (r Result) String() string {
	if r.Err != "" {
		return "error: " + r.Err
	}
	return r.Backend + " from " + r.Source
}

// Dial connects count times, one after the other, from n to addr
// ("ip:port") over proto ("tcp" or "udp"), each attempt bounded by
// timeout.
func (n *Netns) Dial(t testing.TB, proto, addr string, count int, timeout time.Duration) []Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := n.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %s", envDial, proto, addr, count, timeout))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial %s %s from %s: %v", proto, addr, n.Name, err)
	}
	var results []Result
	for line := range strings.Lines(string(out)) {
		kind, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if kind == "ok" {
			backend, source, _ := strings.Cut(rest, " ")
			results = append(results, Result{Backend: backend, Source: source})
		} else {
			results = append(results, Result{Err: rest})
		}
	}
	if len(results) != count {
		t.Fatalf("dial %s %s from %s: %d results, want %d:\n%s", proto, addr, n.Name, len(results), count, out)
	}
	return results
}

// DialOne is Dial of one connection.
func (n *Netns) DialOne(t testing.TB, proto, addr string, timeout time.Duration) Result {
	t.Helper()
	return n.Dial(t, proto, addr, 1, timeout)[0]
}

func runClient(spec string) int {
	var proto, addr string
	var count int
	var wait string
	if _, err := fmt.Sscanf(spec, "%s %s %d %s", &proto, &addr, &count, &wait); err != nil {
		fmt.Fprintln(os.Stderr, "bad dial spec:", spec, err)
		return 1
	}
	timeout, err := time.ParseDuration(wait)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad dial spec:", spec, err)
		return 1
	}
	for range count {
		answer, err := exchange(proto, addr, timeout)
		if err != nil {
			fmt.Println("err", classify(err))
			continue
		}
		fmt.Println("ok", strings.TrimSpace(answer))
	}
	return 0
}

func exchange(proto, addr string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout(proto+"4", addr, timeout)
	if err != nil {
		return "", err
	}
	defer func() { _ = c.Close() }()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if proto == "udp" {
		if _, err := c.Write([]byte("hello")); err != nil {
			return "", err
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	b, err := io.ReadAll(c)
	if err == nil && len(b) == 0 {
		err = errors.New("empty answer")
	}
	return string(b), err
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return "refused"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
}
