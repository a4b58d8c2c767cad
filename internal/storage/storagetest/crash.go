package storagetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/storage"
)

// Opener opens the backend stored in dir; the crash test calls it on the
// same dir in the writer process and again in the test after the kill.
type Opener func(dir string) (storage.Backend, error)

// CrashChildEnv names the variable that turns a test binary into the
// crash test's writer; its value is the directory to open.
const CrashChildEnv = "TUG_STORAGETEST_CRASH_CHILD"

// The writer's workload.
const (
	crashCreators = 3 // goroutines creating new keys
	crashUpdaters = 3 // goroutines updating the hot keys
	crashDeleters = 2 // goroutines creating then deleting keys
	crashHotKeys  = 4
	// crashChildLife bounds a writer whose parent vanished without
	// closing its stdin.
	crashChildLife = 2 * time.Minute
)

// Acknowledged operations, as the writer prints them.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

func hotKey(i int) string { return fmt.Sprintf("/crash/hot/%d", i) }

// MaybeRunCrashChild turns the process into the crash test's writer when
// CrashChildEnv is set, and then never returns; otherwise it does nothing.
// Call it first thing in the backend package's TestMain.
//
// The writer opens the backend in the directory the variable names and
// writes as fast as it can from several goroutines until it is killed,
// printing one line "key revision op" per acknowledged write.
func MaybeRunCrashChild(open Opener) {
	dir := os.Getenv(CrashChildEnv)
	if dir == "" {
		return
	}
	if err := runCrashChild(dir, open, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "crash writer: %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// ackWriter prints acknowledgements, one write(2) per line so a kill never
// leaves half a line from a finished write.
type ackWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (a *ackWriter) ack(key string, rev int64, op string) error {
	line := key + " " + strconv.FormatInt(rev, 10) + " " + op + "\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := io.WriteString(a.out, line)
	return err
}

// runCrashChild is the writer. It returns when stdin closes (the parent
// is gone), after crashChildLife, or on the first failed write.
func runCrashChild(dir string, open Opener, stdin io.Reader, stdout io.Writer) error {
	b, err := open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer func() { _ = b.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), crashChildLife)
	defer cancel()
	go func() { // the parent never writes: EOF means it is gone
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()

	acks := &ackWriter{out: stdout}
	for i := range crashHotKeys {
		rev, err := b.Create(ctx, hotKey(i), []byte("0"), 0)
		if err != nil {
			return fmt.Errorf("create %s: %w", hotKey(i), err)
		}
		if err := acks.ack(hotKey(i), rev, opCreate); err != nil {
			return err
		}
	}

	errs := make(chan error, crashCreators+crashUpdaters+crashDeleters)
	var wg sync.WaitGroup
	for g := range crashCreators {
		wg.Go(func() { errs <- crashCreate(ctx, b, acks, g) })
	}
	for g := range crashUpdaters {
		wg.Go(func() { errs <- crashUpdate(ctx, b, acks, g) })
	}
	for g := range crashDeleters {
		wg.Go(func() { errs <- crashCreateDelete(ctx, b, acks, g) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

func crashCreate(ctx context.Context, b storage.Backend, acks *ackWriter, g int) error {
	value := bytes.Repeat([]byte("c"), 256)
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("/crash/c/%d/%07d", g, i)
		rev, err := b.Create(ctx, key, value, 0)
		if err != nil {
			return fmt.Errorf("create %s: %w", key, err)
		}
		if err := acks.ack(key, rev, opCreate); err != nil {
			return err
		}
	}
	return nil
}

func crashUpdate(ctx context.Context, b storage.Backend, acks *ackWriter, g int) error {
	for i := 0; ctx.Err() == nil; i++ {
		key := hotKey((g + i) % crashHotKeys)
		kv, _, err := b.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("get %s: %w", key, err)
		}
		if kv == nil {
			return fmt.Errorf("hot key %s vanished", key)
		}
		rev, err := b.Update(ctx, key, fmt.Appendf(nil, "%d-%d", g, i), kv.ModRevision, 0)
		if storage.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("update %s: %w", key, err)
		}
		if err := acks.ack(key, rev, opUpdate); err != nil {
			return err
		}
	}
	return nil
}

func crashCreateDelete(ctx context.Context, b storage.Backend, acks *ackWriter, g int) error {
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("/crash/d/%d/%07d", g, i)
		rev, err := b.Create(ctx, key, []byte("doomed"), 0)
		if err != nil {
			return fmt.Errorf("create %s: %w", key, err)
		}
		if err := acks.ack(key, rev, opCreate); err != nil {
			return err
		}
		_, rev, err = b.Delete(ctx, key, rev)
		if err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		if err := acks.ack(key, rev, opDelete); err != nil {
			return err
		}
	}
	return nil
}

// RunCrashTest runs the crash test rounds times, each in a fresh
// directory: it starts this test binary as the writer (see
// MaybeRunCrashChild), kills it with SIGKILL after a random number of
// acknowledged writes, reopens the directory with open and checks that
// every acknowledged write is there and that new writes get higher
// revisions.
func RunCrashTest(t *testing.T, open Opener, rounds int) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	for round := range rounds {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			killAfter := 200 + rand.IntN(2801)
			acks := runCrashRound(t, t.TempDir(), killAfter, open)
			t.Logf("killed after %d acknowledged writes (%d read in total)", killAfter, acks)
		})
	}
}

// crashLog is what the writer acknowledged.
type crashLog struct {
	created map[string]int64 // key → revision of its acknowledged create
	deleted map[string]int64 // key → revision of its acknowledged delete
	hot     map[string]int64 // hot key → highest acknowledged revision
	revs    map[int64]string // revision → the line that acknowledged it
	maxRev  int64
	lines   int
}

func (l *crashLog) add(line string) error {
	fields := strings.Fields(line)
	if len(fields) != 3 {
		return fmt.Errorf("malformed line %q", line)
	}
	key, op := fields[0], fields[2]
	rev, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || rev <= 0 {
		return fmt.Errorf("malformed revision in %q", line)
	}
	if other, dup := l.revs[rev]; dup {
		return fmt.Errorf("revision %d acknowledged twice: %q and %q", rev, other, line)
	}
	l.revs[rev] = line
	l.maxRev = max(l.maxRev, rev)
	l.lines++
	switch {
	case op == opCreate && strings.HasPrefix(key, "/crash/hot/"):
		l.hot[key] = max(l.hot[key], rev)
	case op == opCreate:
		l.created[key] = rev
	case op == opUpdate:
		l.hot[key] = max(l.hot[key], rev)
	case op == opDelete:
		l.deleted[key] = rev
	default:
		return fmt.Errorf("unknown op in %q", line)
	}
	return nil
}

// runCrashRound runs one writer in dir, kills it after killAfter
// acknowledgements, verifies the reopened store and returns the number of
// acknowledgements read.
func runCrashRound(t *testing.T, dir string, killAfter int, open Opener) int {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), CrashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close() }()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}

	acked := &crashLog{created: map[string]int64{}, deleted: map[string]int64{}, hot: map[string]int64{}, revs: map[int64]string{}}
	lines := make(chan string, 1024)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		readErr <- sc.Err()
	}()

	killed := false
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break read
			}
			if err := acked.add(line); err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("writer output: %v (does TestMain call storagetest.MaybeRunCrashChild?)", err)
			}
			if !killed && acked.lines >= killAfter {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatalf("kill writer: %v", err)
				}
				killed = true
			}
		case <-timeout.C:
			_ = cmd.Process.Kill()
			_ = cmd.Wait() // so stderr is complete
			t.Fatalf("writer acknowledged only %d writes in 2m; stderr:\n%s", acked.lines, stderr.String())
		}
	}
	// Lines still in the pipe after the kill were acknowledged too; they
	// have all been read once the pipe reports EOF.
	if err := <-readErr; err != nil {
		t.Fatalf("read writer output: %v", err)
	}
	waitErr := cmd.Wait()
	if !killed {
		t.Fatalf("writer exited (%v) after %d of %d acknowledgements; stderr:\n%s\n"+
			"(does TestMain call storagetest.MaybeRunCrashChild?)", waitErr, acked.lines, killAfter, stderr.String())
	}
	var exitErr *exec.ExitError
	if !errors.As(waitErr, &exitErr) || exitErr.ExitCode() != -1 {
		t.Fatalf("writer ended with %v, want killed by a signal; stderr:\n%s", waitErr, stderr.String())
	}

	b, err := open(dir)
	if err != nil {
		t.Fatalf("reopen after kill -9 with %d acknowledged writes: %v", acked.lines, err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	verifyCrash(t, b, acked)
	return acked.lines
}

// verifyCrash checks b holds every write in acked.
func verifyCrash(t *testing.T, b storage.Backend, acked *crashLog) {
	t.Helper()
	ctx := t.Context()
	rev, err := b.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	if rev < acked.maxRev {
		t.Fatalf("revision after reopen is %d, below the highest acknowledged %d", rev, acked.maxRev)
	}
	missing := 0
	report := func(format string, args ...any) {
		missing++
		if missing <= 20 {
			t.Errorf(format, args...)
		}
	}
	for key, created := range acked.created {
		kv, _, err := b.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get %s: %v", key, err)
		}
		if deleted, ok := acked.deleted[key]; ok {
			if kv != nil {
				report("%s: delete acknowledged at %d, but the key is there: %+v", key, deleted, kv)
			}
			continue
		}
		switch {
		case kv == nil && strings.HasPrefix(key, "/crash/d/"):
			// Its delete may have been committed without being acknowledged.
		case kv == nil:
			report("%s: create acknowledged at %d, key missing", key, created)
		case kv.CreateRevision != created || kv.ModRevision != created:
			report("%s: create acknowledged at %d, key has create %d mod %d", key, created, kv.CreateRevision, kv.ModRevision)
		}
	}
	for key, acked := range acked.hot {
		kv, _, err := b.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get %s: %v", key, err)
		}
		if kv == nil || kv.ModRevision < acked {
			report("%s: update acknowledged at %d, key is %+v", key, acked, kv)
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged writes lost of %d", missing, acked.lines)
	}
	if _, _, err := rangeAll(ctx, b, "/crash/", "", 0); err != nil {
		t.Fatalf("Range after reopen: %v", err)
	}
	verifyCrashHistory(t, b, acked, rev)

	// New writes continue above every acknowledged revision.
	created, err := b.Create(ctx, "/crash/after", []byte("after"), 0)
	if err != nil {
		t.Fatalf("Create after reopen: %v", err)
	}
	if created != rev+1 || created <= acked.maxRev {
		t.Fatalf("Create after reopen got revision %d; want %d, above the highest acknowledged %d", created, rev+1, acked.maxRev)
	}
	kv, _, err := b.Get(ctx, hotKey(0))
	if err != nil || kv == nil {
		t.Fatalf("Get %s: %v, %v", hotKey(0), kv, err)
	}
	updated, err := b.Update(ctx, hotKey(0), []byte("after"), kv.ModRevision, 0)
	if err != nil {
		t.Fatalf("Update after reopen: %v", err)
	}
	if updated != created+1 {
		t.Fatalf("Update after reopen got revision %d, want %d", updated, created+1)
	}
}

// verifyCrashHistory watches the last few hundred revisions before the
// kill: history must hold every revision up to the current one, and each
// acknowledged write at its revision. A backend that already compacted
// them is let off.
func verifyCrashHistory(t *testing.T, b storage.Backend, acked *crashLog, current int64) {
	t.Helper()
	start := max(0, acked.maxRev-500)
	if start == 0 {
		start = 1 // 0 would mean "from now"
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := b.Watch(ctx, "/crash/", true, start)
	next := start + 1
	timer := waitAfter()
	for next <= current {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("history watch from %d closed at revision %d of %d", start, next, current)
			}
			if storage.IsExpired(resp.Err) {
				t.Logf("history from %d already compacted after reopen: %v", start, resp.Err)
				return
			}
			if resp.Err != nil {
				t.Fatalf("history watch from %d: %v", start, resp.Err)
			}
			for _, ev := range resp.Events {
				if ev.KV.ModRevision != next {
					t.Fatalf("history after reopen has revision %d where %d was expected", ev.KV.ModRevision, next)
				}
				if line, ok := acked.revs[next]; ok {
					f := strings.Fields(line)
					isDelete := ev.Type == storage.EventDelete
					if ev.KV.Key != f[0] || isDelete != (f[2] == opDelete) {
						t.Fatalf("history after reopen at revision %d: %s, but %q was acknowledged", next, describeEvents([]storage.Event{ev}), line)
					}
				}
				next++
			}
		case <-timer:
			t.Fatalf("history watch from %d reached only revision %d of %d in %v", start, next-1, current, waitTimeout)
		}
	}
}
