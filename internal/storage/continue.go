package storage

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"strings"
)

// continueToken is the opaque state of a paginated list: the revision every
// page is read at and the key, relative to the listed prefix, to resume from.
type continueToken struct {
	APIVersion string `json:"v"`
	Revision   int64  `json:"rv"`
	Start      string `json:"start"`
}

const continueTokenVersion = "meta.k8s.io/v1"

// latestRevision in a token means "continue at the newest revision": the
// token handed out when the original revision was compacted.
const latestRevision = -1

// encodeContinue builds the token that resumes a list of prefix at nextKey.
func encodeContinue(nextKey, prefix string, rev int64) (string, error) {
	data, err := json.Marshal(continueToken{
		APIVersion: continueTokenVersion,
		Revision:   rev,
		Start:      strings.TrimPrefix(nextKey, prefix),
	})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// decodeContinue returns the absolute start key and revision in token. It
// rejects tokens that would escape prefix.
func decodeContinue(token, prefix string) (string, int64, error) {
	invalid := func(reason string) error {
		return Errorf(CodeInvalidRequest, prefix, "continue key is not valid: %s", reason)
	}
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, invalid(err.Error())
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, invalid(err.Error())
	}
	if c.APIVersion != continueTokenVersion {
		return "", 0, invalid("unsupported version " + c.APIVersion)
	}
	if c.Revision == latestRevision {
		c.Revision = 0 // an inconsistent continuation reads the newest state
	} else if c.Revision <= 0 {
		return "", 0, invalid("missing resource version")
	}
	if c.Start == "" {
		return "", 0, invalid("missing start key")
	}
	// A start key must stay inside the listed prefix.
	cleaned := path.Clean("/" + strings.TrimSuffix(c.Start, "\x00"))
	if cleaned == "/" || strings.Contains(c.Start, "..") {
		return "", 0, invalid("start key escapes the listed prefix")
	}
	return prefix + c.Start, c.Revision, nil
}
