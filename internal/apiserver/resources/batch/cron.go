package batch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed standard cron schedule: five fields (minute, hour,
// day of month, month, day of week), each a set of the values it matches.
type Schedule struct {
	fields [5]uint64
	// A "*" or "?" day field leaves the day to the other field; when both
	// day fields are restricted, a day matching either one matches.
	domStar, dowStar bool
}

// cronField describes one of the five fields.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
	question bool // "?" means "*" (the day fields only)
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31, question: true},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}},
	{name: "day of week", min: 0, max: 6, question: true, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}},
}

// descriptors are the standard shorthands. "@every" and "@reboot" are not
// cron schedules and are rejected.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

const (
	fieldMinute = iota
	fieldHour
	fieldDOM
	fieldMonth
	fieldDOW
)

// ParseSchedule parses a standard five-field cron schedule or one of the
// descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly. Fields take "*", "?" (day fields), values, names (JAN-DEC,
// SUN-SAT), ranges "a-b", steps "*/n", "a-b/n" and "a/n", and lists of
// those separated by commas.
func ParseSchedule(spec string) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "@") {
		expanded, ok := descriptors[strings.ToLower(spec)]
		if !ok {
			return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		spec = expanded
	}
	parts := strings.Fields(spec)
	if len(parts) != len(cronFields) {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %q", len(parts), spec)
	}
	s := &Schedule{}
	for i, part := range parts {
		bits, err := cronFields[i].parse(part)
		if err != nil {
			return nil, fmt.Errorf("%s field %q: %w", cronFields[i].name, part, err)
		}
		s.fields[i] = bits
	}
	s.domStar = isStar(parts[fieldDOM])
	s.dowStar = isStar(parts[fieldDOW])
	return s, nil
}

func isStar(part string) bool { return strings.HasPrefix(part, "*") || strings.HasPrefix(part, "?") }

func (f cronField) parse(s string) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		b, err := f.parseItem(item)
		if err != nil {
			return 0, err
		}
		bits |= b
	}
	return bits, nil
}

func (f cronField) parseItem(item string) (uint64, error) {
	rangePart, stepPart, hasStep := strings.Cut(item, "/")
	lo, hi := f.min, f.max
	star := rangePart == "*" || (rangePart == "?" && f.question)
	if !star {
		a, b, isRange := strings.Cut(rangePart, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return 0, err
		}
		switch {
		case isRange:
			if hi, err = f.value(b); err != nil {
				return 0, err
			}
		case !hasStep:
			hi = lo
		}
	}
	step := 1
	if hasStep {
		n, err := number(stepPart)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("invalid step %q", stepPart)
		}
		step = n
	}
	switch {
	case lo < f.min || hi > f.max:
		return 0, fmt.Errorf("values must be within %d-%d", f.min, f.max)
	case lo > hi:
		return 0, fmt.Errorf("range start %d is after its end %d", lo, hi)
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << uint(v)
	}
	return bits, nil
}

func (f cronField) value(s string) (int, error) {
	if n, ok := f.names[strings.ToLower(s)]; ok {
		return n, nil
	}
	return number(s)
}

// number parses digits only: no sign, no spaces.
func number(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 4 {
		return 0, errors.New("expected a number or a name, got " + strconv.Quote(s))
	}
	return strconv.Atoi(s)
}

// maxSearch bounds Next: a schedule such as "0 0 30 2 *" never fires.
const maxSearch = 5 * 366 * 24 * time.Hour

// Next returns the first time after t that the schedule fires, in t's
// location, or the zero time if it does not fire within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	limit := t.Add(maxSearch)
	for t.Before(limit) {
		switch {
		case !s.has(fieldMonth, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
		case !s.has(fieldHour, t.Hour()):
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !s.has(fieldMinute, t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

func (s *Schedule) has(field, v int) bool { return s.fields[field]&(1<<uint(v)) != 0 }

func (s *Schedule) dayMatches(t time.Time) bool {
	dom, dow := s.has(fieldDOM, t.Day()), s.has(fieldDOW, int(t.Weekday()))
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
