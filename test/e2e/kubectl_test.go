package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// Timeouts of kubectl runs.
const (
	// commandTimeout bounds one kubectl invocation.
	commandTimeout = 60 * time.Second
	// backgroundTimeout bounds a kubectl running in the background.
	backgroundTimeout = time.Minute
	// watchTimeout bounds the wait for one line of a background kubectl.
	watchTimeout = 20 * time.Second
	// gcTimeout bounds how long the garbage collector may take.
	gcTimeout = 30 * time.Second
)

// kubectl runs one kubectl release against a server, in a namespace of its
// own: its kubeconfig's context names that namespace.
type kubectl struct {
	t *testing.T
	// bin is the kubectl binary, e.g. …/kubectl.1.33.
	bin string
	// minor is its release, e.g. "1.33".
	minor string
	// ns is the scenario's namespace.
	ns string
	// dir is private to the scenario: HOME, TMPDIR and the kubeconfig.
	dir string
	// kubeconfig is the admin kubeconfig with ns as the default namespace.
	kubeconfig string
	// editor, if set, becomes EDITOR.
	editor string
}

// newKubectl returns a kubectl for the scenario's namespace ns and creates
// the namespace.
func newKubectl(t *testing.T, s *server, minor, ns string) *kubectl {
	t.Helper()
	bin := filepath.Join(kubectlDir, "kubectl."+minor)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("kubectl %s: %v", minor, err)
	}
	dir := t.TempDir()
	cfg, err := clientcmd.LoadFromFile(s.kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	current, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		t.Fatalf("kubeconfig %s has no current context %q", s.kubeconfig, cfg.CurrentContext)
	}
	current.Namespace = ns
	k := &kubectl{t: t, bin: bin, minor: minor, ns: ns, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig.yaml")}
	if err := clientcmd.WriteToFile(*cfg, k.kubeconfig); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	k.ok("create", "namespace", ns).has(t, "namespace/"+ns+" created")
	return k
}

// result is what one kubectl run produced.
type result struct {
	args   []string
	stdout string
	stderr string
	// code is the exit code; -1 if kubectl was killed.
	code int
}

func (r result) String() string {
	return fmt.Sprintf("$ kubectl %s\nexit code %d\n--- stdout:\n%s--- stderr:\n%s---", quoteArgs(r.args), r.code, r.stdout, r.stderr)
}

func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"{}[]*$!()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

func (k *kubectl) command(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	env := []string{"HOME=" + k.dir, "TMPDIR=" + k.dir, "KUBECONFIG=" + k.kubeconfig}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "HOME", "TMPDIR", "KUBECONFIG", "EDITOR", "KUBE_EDITOR", "KUBECTL_EXTERNAL_DIFF":
			continue
		}
		if strings.HasPrefix(name, "KUBECTL_") {
			continue // feature switches would change behavior under test
		}
		env = append(env, kv)
	}
	if k.editor != "" {
		env = append(env, "EDITOR="+k.editor)
	}
	cmd.Env = env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runIn runs kubectl with stdin and returns what it did, whatever the
// exit code.
func (k *kubectl) runIn(stdin string, args ...string) result {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := k.command(ctx, stdin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		k.t.Fatalf("run kubectl: %v\n%s", err, r)
	}
	if ctx.Err() != nil {
		r.code = -1
		r.stderr += fmt.Sprintf("\n[killed after %v]\n", commandTimeout)
	}
	return r
}

func (k *kubectl) run(args ...string) result {
	k.t.Helper()
	return k.runIn("", args...)
}

// okIn runs kubectl and ends the scenario unless it exits 0.
func (k *kubectl) okIn(stdin string, args ...string) result {
	k.t.Helper()
	r := k.runIn(stdin, args...)
	if r.code != 0 {
		k.t.Fatalf("kubectl failed:\n%s", r)
	}
	return r
}

func (k *kubectl) ok(args ...string) result {
	k.t.Helper()
	return k.okIn("", args...)
}

// failsIn runs kubectl and reports an error unless it exits non-zero.
func (k *kubectl) failsIn(stdin string, args ...string) result {
	k.t.Helper()
	r := k.runIn(stdin, args...)
	if r.code == 0 {
		k.t.Errorf("kubectl succeeded, want a failure:\n%s", r)
	}
	return r
}

func (k *kubectl) fails(args ...string) result {
	k.t.Helper()
	return k.failsIn("", args...)
}

// field returns the jsonpath expression path of object obj (e.g.
// "configmap/x" or "deployment web"), ending the scenario if the get
// fails.
func (k *kubectl) field(obj, path string) string {
	k.t.Helper()
	args := append(strings.Fields(obj), "-o", "jsonpath="+path)
	return k.ok(append([]string{"get"}, args...)...).stdout
}

// wantField reports an error unless obj's field at path is want.
func (k *kubectl) wantField(obj, path, want string) {
	k.t.Helper()
	if got := k.field(obj, path); got != want {
		k.t.Errorf("kubectl get %s -o jsonpath='%s' = %q, want %q", obj, path, got, want)
	}
}

// wantNotFound reports an error unless getting obj fails with NotFound.
func (k *kubectl) wantNotFound(obj string) {
	k.t.Helper()
	r := k.run(append([]string{"get"}, strings.Fields(obj)...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "(NotFound)") {
		k.t.Errorf("want %s not found:\n%s", obj, r)
	}
}

// eventually polls cond every 100ms until it returns true or gcTimeout
// passes; then it reports an error with the last description.
func (k *kubectl) eventually(what string, cond func() (bool, string)) {
	k.t.Helper()
	const timeout = gcTimeout
	deadline := time.Now().Add(timeout)
	for {
		done, last := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			k.t.Errorf("%s: not within %v; last:\n%s", what, timeout, last)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// has reports an error unless stdout holds each of wants.
func (r result) has(t *testing.T, wants ...string) result {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r)
		}
	}
	return r
}

// hasErr reports an error unless stderr holds each of wants.
func (r result) hasErr(t *testing.T, wants ...string) result {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	return r
}

// lacks reports an error if stdout holds any of unwanted.
func (r result) lacks(t *testing.T, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(r.stdout, u) {
			t.Errorf("stdout holds %q:\n%s", u, r)
		}
	}
}

// matches reports an error unless stdout matches each multi-line regular
// expression.
func (r result) matches(t *testing.T, exprs ...string) result {
	t.Helper()
	for _, expr := range exprs {
		if !regexp.MustCompile("(?m)" + expr).MatchString(r.stdout) {
			t.Errorf("stdout does not match /%s/:\n%s", expr, r)
		}
	}
	return r
}

// equals reports an error unless stdout, without its final newline, is
// want.
func (r result) equals(t *testing.T, want string) {
	t.Helper()
	if got := strings.TrimSuffix(r.stdout, "\n"); got != want {
		t.Errorf("stdout = %q, want %q:\n%s", got, want, r)
	}
}

// rows returns stdout's lines with runs of blanks folded to one space, so
// that tables compare independent of column widths.
func (r result) rows() []string {
	var rows []string
	for _, line := range strings.Split(strings.TrimRight(r.stdout, "\n"), "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	return rows
}

// wantRows reports an error unless the table in stdout is want, blanks
// folded.
func (r result) wantRows(t *testing.T, want ...string) {
	t.Helper()
	got := r.rows()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table rows:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r)
	}
}

// wantTable reports an error unless the table in stdout, blanks folded,
// has one row per expression and each row matches its expression.
func (r result) wantTable(t *testing.T, exprs ...string) {
	t.Helper()
	got := r.rows()
	ok := len(got) == len(exprs)
	for i := 0; ok && i < len(exprs); i++ {
		ok = regexp.MustCompile("^" + exprs[i] + "$").MatchString(got[i])
	}
	if !ok {
		t.Errorf("table rows:\n%s\nwant rows matching:\n%s\n%s", strings.Join(got, "\n"), strings.Join(exprs, "\n"), r)
	}
}
