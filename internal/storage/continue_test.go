package storage

import (
	"strings"
	"testing"
)

func TestContinueRoundTrip(t *testing.T) {
	for _, tc := range []struct{ prefix, next string }{
		{"/registry/pods/", "/registry/pods/default/web-0\x00"},
		{"/registry/namespaces/", "/registry/namespaces/kube-system\x00"},
	} {
		token, err := encodeContinue(tc.next, tc.prefix, 42)
		if err != nil {
			t.Fatal(err)
		}
		start, rev, err := decodeContinue(token, tc.prefix)
		if err != nil || start != tc.next || rev != 42 {
			t.Errorf("decode(encode(%q)) = %q, %d, %v", tc.next, start, rev, err)
		}
	}
}

func TestDecodeContinueRejects(t *testing.T) {
	encode := func(next string, rev int64) string {
		token, err := encodeContinue(next, "", rev)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	for name, token := range map[string]string{
		"not base64":       "%%%",
		"not json":         "bm90IGpzb24",
		"no revision":      encode("a\x00", 0),
		"no start":         encode("", 5),
		"escapes prefix":   encode("../secrets/x", 5),
		"only a slash":     encode("/", 5),
		"wrong version":    "eyJ2IjoidjAiLCJydiI6NSwic3RhcnQiOiJhIn0",
		"negative version": encode("a\x00", -3),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := decodeContinue(token, "/registry/pods/"); !IsInvalidRequest(err) {
				t.Fatalf("decodeContinue(%q) error = %v, want an invalid request", token, err)
			}
		})
	}
}

// FuzzDecodeContinue checks that no token crashes the parser or yields a
// start key outside the listed prefix.
func FuzzDecodeContinue(f *testing.F) {
	token, _ := encodeContinue("/p/a\x00", "/p/", 7)
	f.Add(token)
	f.Add("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIuLi94In0")
	f.Fuzz(func(t *testing.T, token string) {
		start, _, err := decodeContinue(token, "/p/")
		if err == nil && (!strings.HasPrefix(start, "/p/") || strings.Contains(start, "..")) {
			t.Fatalf("token %q yields start %q", token, start)
		}
	})
}
