package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRoot(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string   // substring; empty means stderr must be empty
	}{
		{
			name:       "no arguments prints help",
			args:       nil,
			wantCode:   ExitOK,
			wantStdout: []string{"Usage:", "tug [command]", "version"},
		},
		{
			name:       "help flag",
			args:       []string{"--help"},
			wantCode:   ExitOK,
			wantStdout: []string{"Available Commands:", "version"},
		},
		{
			name:       "help for a command",
			args:       []string{"help", "version"},
			wantCode:   ExitOK,
			wantStdout: []string{"tug version [flags]", "--output"},
		},
		{
			name:       "unknown command",
			args:       []string{"nope"},
			wantCode:   ExitError,
			wantStderr: `Error: unknown command "nope" for "tug"`,
		},
		{
			name:       "unknown root flag",
			args:       []string{"--nope"},
			wantCode:   ExitError,
			wantStderr: "Error: unknown flag: --nope\nSee 'tug --help' for usage\n",
		},
		{
			name:       "no completion command",
			args:       []string{"completion", "bash"},
			wantCode:   ExitError,
			wantStderr: `unknown command "completion"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("Main(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("Main(%q) stdout does not contain %q:\n%s", tt.args, want, stdout.String())
				}
			}
			if tt.wantStdout == nil && stdout.Len() != 0 {
				t.Errorf("Main(%q) wrote to stdout:\n%s", tt.args, stdout.String())
			}
			checkStderr(t, tt.args, stderr.String(), tt.wantStderr)
		})
	}
}
