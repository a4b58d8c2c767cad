package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tugcluster/tug/internal/version"
)

func TestVersion(t *testing.T) {
	info := version.Get()
	jsonOut, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		t.Fatalf("marshal %+v: %v", info, err)
	}

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // substring; empty means stderr must be empty
	}{
		{
			name:       "text by default",
			args:       []string{"version"},
			wantCode:   ExitOK,
			wantStdout: info.Text(),
		},
		{
			name:       "json long flag",
			args:       []string{"version", "--output", "json"},
			wantCode:   ExitOK,
			wantStdout: string(jsonOut) + "\n",
		},
		{
			name:       "json short flag",
			args:       []string{"version", "-o=json"},
			wantCode:   ExitOK,
			wantStdout: string(jsonOut) + "\n",
		},
		{
			name:       "unsupported output",
			args:       []string{"version", "-o", "yaml"},
			wantCode:   ExitError,
			wantStderr: `Error: --output "yaml" is not supported`,
		},
		{
			name:       "unknown flag",
			args:       []string{"version", "--bogus"},
			wantCode:   ExitError,
			wantStderr: "Error: unknown flag: --bogus\nSee 'tug version --help' for usage\n",
		},
		{
			name:       "extra argument",
			args:       []string{"version", "extra"},
			wantCode:   ExitError,
			wantStderr: `Error: unknown command "extra" for "tug version"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("Main(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("Main(%q) stdout mismatch (-want +got):\n%s", tt.args, diff)
			}
			checkStderr(t, tt.args, stderr.String(), tt.wantStderr)
		})
	}
}

func TestVersionJSONFields(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"version", "-o", "json"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("Main = %d, want %d; stderr:\n%s", code, ExitOK, stderr.String())
	}
	var got map[string]string
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v", stdout.String(), err)
	}
	for _, key := range []string{"version", "gitCommit", "kubernetesVersion", "goVersion", "platform"} {
		if got[key] == "" {
			t.Errorf("JSON output has no %q: %s", key, stdout.String())
		}
	}
	if kube := got["kubernetesVersion"]; !strings.HasPrefix(kube, "v1.") {
		t.Errorf("kubernetesVersion = %q, want v1.x.y", kube)
	}
}

// checkStderr fails t unless stderr is empty when want is empty, or
// contains want otherwise.
func checkStderr(t *testing.T, args []string, stderr, want string) {
	t.Helper()
	switch {
	case want == "" && stderr != "":
		t.Errorf("Main(%q) wrote to stderr:\n%s", args, stderr)
	case !strings.Contains(stderr, want):
		t.Errorf("Main(%q) stderr = %q, want it to contain %q", args, stderr, want)
	}
}
