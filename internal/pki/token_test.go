package pki

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var tokenFormat = regexp.MustCompile(`^tug-[0-9a-f]{32}$`)

func TestEnsureTokenCreatesAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "server", "token")
	first, err := EnsureToken(path)
	if err != nil {
		t.Fatalf("EnsureToken: %v", err)
	}
	if !tokenFormat.MatchString(first) {
		t.Errorf("token %q does not match %s", first, tokenFormat)
	}
	assertMode(t, path, 0o600)
	assertMode(t, filepath.Dir(path), 0o700|os.ModeDir)

	second, err := EnsureToken(path)
	if err != nil {
		t.Fatalf("EnsureToken again: %v", err)
	}
	if second != first {
		t.Errorf("second EnsureToken = %q, want the stored %q", second, first)
	}

	other, err := EnsureToken(filepath.Join(t.TempDir(), "token"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Errorf("two new tokens are both %q", first)
	}
}

func TestEnsureTokenExistingFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr bool
	}{
		{name: "own format", content: "tug-0123456789abcdef0123456789abcdef\n", want: "tug-0123456789abcdef0123456789abcdef"},
		{name: "operator's token", content: "  K10abc::server:secret \n", want: "K10abc::server:secret"},
		{name: "no newline", content: "secret", want: "secret"},
		{name: "empty", content: "", wantErr: true},
		{name: "blank", content: " \n\t", wantErr: true},
		{name: "two words", content: "two words\n", wantErr: true},
		{name: "two lines", content: "one\ntwo\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := EnsureToken(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("EnsureToken() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("EnsureToken() = %q, want %q", got, tt.want)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.content {
				t.Errorf("token file rewritten to %q", data)
			}
		})
	}
}

func TestEnsureTokenUnreadable(t *testing.T) {
	// A directory where the file should be cannot be read as a token.
	if _, err := EnsureToken(t.TempDir()); err == nil {
		t.Error("EnsureToken on a directory succeeded")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode() & (os.ModeDir | os.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}
