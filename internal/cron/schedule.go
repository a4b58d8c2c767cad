// Package cron parses the schedules of CronJobs (standard five-field cron
// syntax and the @hourly… shorthands) and finds when they fire next, in
// any time zone. The API server validates with it; the CronJob controller
// schedules with it.
package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed five-field cron schedule: the sets of minutes,
// hours, days of the month, months and weekdays at which it fires.
type Schedule struct {
	minute, hour, dom, month, dow bits
	// A day field given as "*" (or "?") leaves the choice of day to the
	// other field; when both are restricted, a day matching either fires.
	domAny, dowAny bool
}

// bits is a set of small numbers.
type bits uint64

func (b bits) has(v int) bool { return b&(1<<uint(v)) != 0 }

// field describes one position of a schedule.
type field struct {
	what     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	minuteField = field{what: "minute", min: 0, max: 59}
	hourField   = field{what: "hour", min: 0, max: 23}
	domField    = field{what: "day of month", min: 1, max: 31}
	monthField  = field{what: "month", min: 1, max: 12,
		names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	dowField = field{what: "day of week", min: 0, max: 6,
		names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

// shorthands are the predefined schedules.
var shorthands = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse reads a standard cron schedule — minute, hour, day of month,
// month, day of week — or one of @yearly, @annually, @monthly, @weekly,
// @daily, @midnight and @hourly. A field is a comma-separated list of
// "*", a value, a range "a-b", each optionally stepped ("*/15", "1-30/2",
// "5/10" meaning 5 to the end by 10); months and weekdays also take
// three-letter names, and the day fields "?" for "*".
func Parse(spec string) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "@") {
		expanded, ok := shorthands[strings.ToLower(spec)]
		if !ok {
			return nil, fmt.Errorf("unknown schedule shorthand %q", spec)
		}
		spec = expanded
	}
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return nil, fmt.Errorf("expected 5 fields, found %d in %q", len(parts), spec)
	}
	s := &Schedule{}
	var err error
	if s.minute, _, err = minuteField.parse(parts[0], false); err != nil {
		return nil, err
	}
	if s.hour, _, err = hourField.parse(parts[1], false); err != nil {
		return nil, err
	}
	if s.dom, s.domAny, err = domField.parse(parts[2], true); err != nil {
		return nil, err
	}
	if s.month, _, err = monthField.parse(parts[3], false); err != nil {
		return nil, err
	}
	if s.dow, s.dowAny, err = dowField.parse(parts[4], true); err != nil {
		return nil, err
	}
	return s, nil
}

// parse reads one field; star reports an unstepped "*" (or "?").
func (f field) parse(text string, question bool) (set bits, star bool, err error) {
	for item := range strings.SplitSeq(text, ",") {
		b, itemStar, err := f.parseItem(item, question)
		if err != nil {
			return 0, false, fmt.Errorf("%s %q: %w", f.what, text, err)
		}
		set |= b
		star = star || itemStar
	}
	return set, star, nil
}

func (f field) parseItem(item string, question bool) (bits, bool, error) {
	span, stepText, stepped := strings.Cut(item, "/")
	step := 1
	if stepped {
		n, err := strconv.Atoi(stepText)
		if err != nil || n <= 0 || n > f.max+1 {
			return 0, false, fmt.Errorf("bad step %q", stepText)
		}
		step = n
	}
	lo, hi := f.min, f.max
	star := span == "*" || (question && span == "?")
	if !star {
		a, b, isRange := strings.Cut(span, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return 0, false, err
		}
		hi = lo
		switch {
		case isRange:
			if hi, err = f.value(b); err != nil {
				return 0, false, err
			}
		case stepped:
			hi = f.max // "a/n" runs to the end of the field
		}
		if hi < lo {
			return 0, false, fmt.Errorf("range %q runs backwards", span)
		}
	}
	var set bits
	for v := lo; v <= hi; v += step {
		set |= 1 << uint(v)
	}
	return set, star && step == 1, nil
}

// value reads a number or name within the field's bounds.
func (f field) value(text string) (int, error) {
	lower := strings.ToLower(text)
	for i, name := range f.names {
		if lower == name {
			return f.min + i, nil
		}
	}
	if text == "" || strings.Trim(text, "0123456789") != "" || len(text) > 2 {
		return 0, fmt.Errorf("%q is not a number or name", text)
	}
	v, _ := strconv.Atoi(text)
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, f.min, f.max)
	}
	return v, nil
}

// searchYears bounds Next: "0 0 30 2 *" never fires.
const searchYears = 5

// Next returns the first time strictly after t at which the schedule
// fires, read on the wall clock of t's location, or the zero time if it
// does not fire within five years.
//
// The search walks real time, so that wall-clock times skipped by a
// daylight saving change never fire and times repeated by one fire on
// each occurrence; whole days and months are skipped with calendar
// arithmetic.
func (s *Schedule) Next(t time.Time) time.Time {
	loc := t.Location()
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.AddDate(searchYears, 0, 0)
	for t.Before(limit) {
		var next time.Time
		switch {
		case !s.month.has(int(t.Month())):
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !s.dayMatches(t):
			next = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case !s.hour.has(t.Hour()):
			next = t.Add(time.Hour - time.Duration(t.Minute())*time.Minute)
		case !s.minute.has(t.Minute()):
			next = t.Add(time.Minute)
		default:
			return t
		}
		if !next.After(t) { // a calendar jump that a clock change undid
			next = t.Add(time.Minute)
		}
		t = next
	}
	return time.Time{}
}

func (s *Schedule) dayMatches(t time.Time) bool {
	dom, dow := s.dom.has(t.Day()), s.dow.has(int(t.Weekday()))
	if s.domAny || s.dowAny {
		return dom && dow
	}
	return dom || dow
}
