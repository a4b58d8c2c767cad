package pki

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/tugcluster/tug/internal/atomicfile"
)

// tokenPrefix marks tug join tokens, so that one pasted in the wrong place
// is recognizable.
const tokenPrefix = "tug-"

// EnsureToken returns the cluster's join token, stored at path (tug server
// uses <data-dir>/server/token). The first call creates it — "tug-" and 32
// hex digits, 128 random bits — with mode 0600, creating the parent
// directory with mode 0700 if needed; later calls return the stored token.
// A token an operator wrote there in any other form is accepted as is, if it
// is one word.
func EnsureToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		token := strings.TrimSpace(string(data))
		if token == "" || strings.ContainsFunc(token, unicode.IsSpace) {
			return "", fmt.Errorf("join token file %s must hold one word", path)
		}
		return token, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read join token: %w", err)
	}
	token, err := newToken()
	if err != nil {
		return "", fmt.Errorf("create join token: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create join token: %w", err)
	}
	if err := atomicfile.Write(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("create join token: %w", err)
	}
	return token, nil
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return tokenPrefix + hex.EncodeToString(b[:]), nil
}
