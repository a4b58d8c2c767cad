package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// background is a kubectl process running alongside the scenario, such as
// `get -w` or `wait`.
type background struct {
	t     *testing.T
	args  []string
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}

	mu     sync.Mutex
	seen   []string
	stderr bytes.Buffer
	err    error
}

// start runs kubectl in the background, for at most backgroundTimeout;
// the process is killed when the test ends.
func (k *kubectl) start(args ...string) *background {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
	cmd := k.command(ctx, "", args...)
	b := &background{t: k.t, args: args, cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		k.t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		k.t.Fatalf("start kubectl: %v", err)
	}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			b.lines <- scanner.Text()
		}
		close(b.lines)
		err := cmd.Wait()
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
		cancel()
		close(b.done)
	}()
	k.t.Cleanup(func() {
		b.stop()
	})
	return b
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stop kills the process (by its PID) and waits for it.
func (b *background) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	if err := b.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		b.t.Logf("kill kubectl pid %d: %v", b.cmd.Process.Pid, err)
	}
	for { // drain, so that the reader finishes
		if _, ok := <-b.lines; !ok {
			break
		}
	}
	<-b.done
}

func (b *background) describe() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("$ kubectl %s\n--- stdout so far:\n%s\n--- stderr so far:\n%s---", quoteArgs(b.args), strings.Join(b.seen, "\n"), b.stderr.String())
}

// waitLine waits until a stdout line matches expr; it reports an error
// and returns false if none does within watchTimeout or the process ends.
func (b *background) waitLine(expr string) bool {
	b.t.Helper()
	const timeout = watchTimeout
	re := regexp.MustCompile(expr)
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				b.t.Errorf("kubectl ended before printing a line matching /%s/:\n%s", expr, b.describe())
				return false
			}
			b.mu.Lock()
			b.seen = append(b.seen, line)
			b.mu.Unlock()
			if re.MatchString(line) {
				return true
			}
		case <-deadline:
			b.t.Errorf("no line matching /%s/ within %v:\n%s", expr, timeout, b.describe())
			return false
		}
	}
}

// waitStderr waits until stderr holds want, for at most watchTimeout.
func (b *background) waitStderr(want string) bool {
	b.t.Helper()
	const timeout = watchTimeout
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		found := strings.Contains(b.stderr.String(), want)
		b.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-b.done:
			b.t.Errorf("kubectl ended before stderr held %q:\n%s", want, b.describe())
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.t.Errorf("stderr lacks %q after %v:\n%s", want, timeout, b.describe())
	return false
}

// wait waits for the process to exit by itself and returns its output.
func (b *background) wait(timeout time.Duration) (result, bool) {
	b.t.Helper()
	var out []string
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-b.lines:
			if ok {
				out = append(out, line)
				continue
			}
			<-b.done
			b.mu.Lock()
			defer b.mu.Unlock()
			r := result{args: b.args, stdout: strings.Join(out, "\n") + "\n", stderr: b.stderr.String()}
			var exitErr *exec.ExitError
			if errors.As(b.err, &exitErr) {
				r.code = exitErr.ExitCode()
			} else if b.err != nil {
				r.code = -1
			}
			return r, true
		case <-deadline:
			b.t.Errorf("kubectl still running after %v:\n%s", timeout, b.describe())
			return result{}, false
		}
	}
}
