package endpoints

import (
	"encoding/json"
	"errors"
	"strings"
)

// errFieldsJSON is a managedFields entry whose FieldsV1 is not the JSON
// the field manager writes.
var errFieldsJSON = errors.New("malformed FieldsV1")

// checkFieldsJSON reports whether raw is FieldsV1 JSON as the field
// manager writes it (objects of objects), as parsing it whole would.
func checkFieldsJSON(raw string) error {
	s := fieldsScanner{raw: raw}
	if err := s.skipObject(); err != nil {
		return err
	}
	if s.space(); s.at != len(raw) {
		return errFieldsJSON
	}
	return nil
}

// ownsField reports whether the field set in FieldsV1 JSON raw, which
// checkFieldsJSON accepted, holds the field at names (a struct field, then
// fields within it) as a member, as fieldpath.Set.Has would after parsing
// it whole. Only the objects on the way are decoded, so a renewal does not
// parse every entry's set; sets of one kind differ (a lease's names its
// owner's uid), so caching parsed sets does not help.
func ownsField(raw string, names []string) (bool, error) {
	s := fieldsScanner{raw: raw}
	for _, name := range names {
		found, err := s.enter("f:" + name)
		if !found || err != nil {
			return false, err
		}
	}
	// A member maps to an empty set, or holds "." beside its children.
	if empty, err := s.emptyObject(); empty || err != nil {
		return empty, err
	}
	return s.enter(".")
}

// fieldsScanner reads FieldsV1 JSON: objects whose keys are strings and
// whose values are objects, nothing else.
type fieldsScanner struct {
	raw string
	at  int
}

// enter finds key in the object starting at the scanner and leaves the
// scanner at the start of its value.
func (s *fieldsScanner) enter(key string) (bool, error) {
	if !s.consume('{') {
		return false, errFieldsJSON
	}
	if s.consume('}') {
		return false, nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return false, err
		}
		if !s.consume(':') {
			return false, errFieldsJSON
		}
		if k == key {
			return true, nil
		}
		if err := s.skipObject(); err != nil {
			return false, err
		}
		if s.consume('}') {
			return false, nil
		}
		if !s.consume(',') {
			return false, errFieldsJSON
		}
	}
}

// emptyObject reports whether the object at the scanner is {}, leaving
// the scanner where it was.
func (s *fieldsScanner) emptyObject() (bool, error) {
	peek := *s
	if !peek.consume('{') {
		return false, errFieldsJSON
	}
	return peek.consume('}'), nil
}

// key reads a JSON string, unescaping it only if it has escapes.
func (s *fieldsScanner) key() (string, error) {
	s.space()
	end, escaped, err := s.stringEnd()
	if err != nil {
		return "", err
	}
	quoted := s.raw[s.at : end+1]
	s.at = end + 1
	if !escaped {
		return quoted[1 : len(quoted)-1], nil
	}
	var k string
	if err := json.Unmarshal([]byte(quoted), &k); err != nil {
		return "", errFieldsJSON
	}
	return k, nil
}

// stringEnd finds the quote closing the JSON string that opens at the
// scanner.
func (s *fieldsScanner) stringEnd() (end int, escaped bool, err error) {
	if s.at >= len(s.raw) || s.raw[s.at] != '"' {
		return 0, false, errFieldsJSON
	}
	for end = s.at + 1; end < len(s.raw); end++ {
		switch s.raw[end] {
		case '\\':
			escaped = true
			end++
		case '"':
			return end, escaped, nil
		}
	}
	return 0, false, errFieldsJSON
}

// skipObject moves past the object at the scanner, checking that it is
// FieldsV1 JSON.
func (s *fieldsScanner) skipObject() error {
	if !s.consume('{') {
		return errFieldsJSON
	}
	if s.consume('}') {
		return nil
	}
	for {
		s.space()
		end, _, err := s.stringEnd()
		if err != nil {
			return err
		}
		s.at = end + 1
		if !s.consume(':') {
			return errFieldsJSON
		}
		if err := s.skipObject(); err != nil {
			return err
		}
		if s.consume('}') {
			return nil
		}
		if !s.consume(',') {
			return errFieldsJSON
		}
	}
}

// consume moves past c (and the space before it) if it comes next.
func (s *fieldsScanner) consume(c byte) bool {
	s.space()
	if s.at < len(s.raw) && s.raw[s.at] == c {
		s.at++
		return true
	}
	return false
}

func (s *fieldsScanner) space() {
	for s.at < len(s.raw) && strings.IndexByte(" \t\r\n", s.raw[s.at]) >= 0 {
		s.at++
	}
}
