package job

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// indexRange is the closed interval [first, last] of completion indexes.
type indexRange struct{ first, last int }

// indexSet is a set of completion indexes kept as sorted, disjoint,
// non-adjacent ranges: the form of status.completedIndexes and
// status.failedIndexes, and small however many indexes a job has.
type indexSet []indexRange

// parseIndexSet reads the "1,3-5,7" form. Elements outside [0, limit) are
// dropped (a job's completions may have shrunk); a malformed element is an
// error, and the elements read so far are still returned so that one bad
// write cannot make a job forget all its progress.
func parseIndexSet(s string, limit int) (indexSet, error) {
	var set indexSet
	if s == "" {
		return set, nil
	}
	var errs []error
	for elem := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(elem, "-")
		first, err := strconv.Atoi(a)
		if err != nil || first < 0 {
			errs = append(errs, fmt.Errorf("index %q: not a non-negative number", elem))
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(b); err != nil || last < first {
				errs = append(errs, fmt.Errorf("index range %q is malformed", elem))
				continue
			}
		}
		if first >= limit {
			continue
		}
		set = set.withRange(first, min(last, limit-1))
	}
	return set, errors.Join(errs...)
}

// String renders the set as the API wants it: ranges of three or more
// indexes as "a-b", shorter ones as single numbers.
func (s indexSet) String() string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r.first))
		switch r.last - r.first {
		case 0:
		case 1:
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(r.last))
		default:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.last))
		}
	}
	return b.String()
}

// has reports whether i is in the set.
func (s indexSet) has(i int) bool {
	for _, r := range s {
		if i < r.first {
			return false
		}
		if i <= r.last {
			return true
		}
	}
	return false
}

// total is the number of indexes in the set.
func (s indexSet) total() int {
	n := 0
	for _, r := range s {
		n += r.last - r.first + 1
	}
	return n
}

// with returns the set plus i; the receiver is not modified.
func (s indexSet) with(i int) indexSet { return s.withRange(i, i) }

// withRange returns the set plus [first, last], merging touching ranges;
// the receiver is not modified.
func (s indexSet) withRange(first, last int) indexSet {
	out := make(indexSet, 0, len(s)+1)
	merged := indexRange{first, last}
	placed := false
	for _, r := range s {
		switch {
		case r.last+1 < merged.first:
			out = append(out, r)
		case merged.last+1 < r.first:
			if !placed {
				out = append(out, merged)
				placed = true
			}
			out = append(out, r)
		default: // overlapping or adjacent
			merged = indexRange{min(r.first, merged.first), max(r.last, merged.last)}
		}
	}
	if !placed {
		out = append(out, merged)
	}
	return out
}

// countIn is how many indexes of s are also in other.
func (s indexSet) countIn(other indexSet) int {
	n := 0
	i, j := 0, 0
	for i < len(s) && j < len(other) {
		lo, hi := max(s[i].first, other[j].first), min(s[i].last, other[j].last)
		if lo <= hi {
			n += hi - lo + 1
		}
		if s[i].last < other[j].last {
			i++
		} else {
			j++
		}
	}
	return n
}
