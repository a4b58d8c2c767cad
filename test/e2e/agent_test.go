package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// agentRuns numbers agent log files, so that a restarted agent keeps the
// log of the one before.
var agentRuns atomic.Int64

// agent is a `tug agent` child process.
type agent struct {
	// args is the command line after the binary.
	args []string
	// log holds the agent's stdout and stderr.
	log string
	// pid identifies the process; every signal goes to it alone.
	pid int
	// exited receives the result of Wait once.
	exited chan error
	// done is set once exited has been received from.
	done bool
}

// startAgent runs the built tug binary with args (e.g. "agent",
// "--simulated", …) with its output in a file under dir. The agent is
// stopped (by PID) when owner ends, and its log tail printed if owner
// failed: owner is the test that outlives the agent, not necessarily the
// subtest that starts it, so errors are returned rather than reported.
func startAgent(owner *testing.T, dir string, args ...string) (*agent, error) {
	a := &agent{
		args:   args,
		log:    filepath.Join(dir, fmt.Sprintf("agent-%d.log", agentRuns.Add(1))),
		exited: make(chan error, 1),
	}
	logFile, err := os.Create(a.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	cmd := exec.Command(tugBinary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tugBinary, err)
	}
	a.pid = cmd.Process.Pid
	go func() { a.exited <- cmd.Wait() }()
	owner.Logf("tug agent pid %d started: %s", a.pid, strings.Join(args, " "))
	owner.Cleanup(func() {
		if !a.done {
			a.done = true
			if err := stopProcess(owner, a.pid, a.exited); err != nil {
				owner.Errorf("tug agent: %v", err)
			}
		}
		if owner.Failed() {
			owner.Logf("tail of the tug agent log %s:\n%s", a.log, tail(a.log, 40))
		}
	})
	return a, nil
}

// kill sends SIGKILL to the agent, as a crashed machine would stop it, and
// waits for it to exit. It returns the exit status, which must be an error.
func (a *agent) kill() error {
	if a.done {
		return errors.New("agent already stopped")
	}
	proc, err := os.FindProcess(a.pid)
	if err != nil {
		return err
	}
	if err := proc.Kill(); err != nil {
		return fmt.Errorf("kill -9 %d: %w", a.pid, err)
	}
	a.done = true
	if err := <-a.exited; err == nil {
		return fmt.Errorf("tug agent pid %d exited cleanly after SIGKILL", a.pid)
	}
	return nil
}

// runAgentToExit runs `tug <args>` and waits for it to exit by itself,
// within timeout; it returns the combined output and the exit code (-1 if
// it had to be killed).
func runAgentToExit(timeout time.Duration, args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tugBinary, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return string(out) + fmt.Sprintf("\n[killed after %v]", timeout), -1
	case errors.As(err, &exitErr):
		return string(out), exitErr.ExitCode()
	case err != nil:
		return fmt.Sprintf("%s\n[%v]", out, err), -1
	}
	return string(out), 0
}
