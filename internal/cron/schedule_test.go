package cron

import (
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNext(t *testing.T) {
	utc := time.UTC
	ny := mustLoad(t, "America/New_York")
	kolkata := mustLoad(t, "Asia/Kolkata")
	at := func(loc *time.Location, y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, loc)
	}
	tests := []struct {
		name     string
		schedule string
		from     time.Time
		want     time.Time // zero: never
	}{
		{"every minute", "* * * * *", at(utc, 2026, 3, 1, 10, 0, 30), at(utc, 2026, 3, 1, 10, 1, 0)},
		{"every minute from a whole minute", "* * * * *", at(utc, 2026, 3, 1, 10, 0, 0), at(utc, 2026, 3, 1, 10, 1, 0)},
		{"step", "*/15 * * * *", at(utc, 2026, 3, 1, 10, 7, 0), at(utc, 2026, 3, 1, 10, 15, 0)},
		{"step wraps the hour", "*/15 * * * *", at(utc, 2026, 3, 1, 10, 45, 0), at(utc, 2026, 3, 1, 11, 0, 0)},
		{"start/step", "5/20 * * * *", at(utc, 2026, 3, 1, 10, 26, 0), at(utc, 2026, 3, 1, 10, 45, 0)},
		{"range step", "0 8-18/4 * * *", at(utc, 2026, 3, 1, 13, 0, 0), at(utc, 2026, 3, 1, 16, 0, 0)},
		{"list", "0 6,18 * * *", at(utc, 2026, 3, 1, 7, 0, 0), at(utc, 2026, 3, 1, 18, 0, 0)},
		{"weekdays", "0 9 * * 1-5", at(utc, 2026, 3, 6, 10, 0, 0), at(utc, 2026, 3, 9, 9, 0, 0)},
		{"names", "0 12 * jan,JUL Sun", at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2026, 7, 5, 12, 0, 0)},
		{"day of month or day of week", "0 0 13 * 5", at(utc, 2026, 2, 1, 0, 0, 0), at(utc, 2026, 2, 6, 0, 0, 0)},
		{"day of month with any weekday", "0 0 13 * *", at(utc, 2026, 2, 1, 0, 0, 0), at(utc, 2026, 2, 13, 0, 0, 0)},
		{"question mark", "0 0 ? * MON", at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2026, 3, 2, 0, 0, 0)},
		{"31st skips short months", "0 0 31 * *", at(utc, 2026, 2, 1, 0, 0, 0), at(utc, 2026, 3, 31, 0, 0, 0)},
		{"leap day", "0 0 29 2 *", at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2028, 2, 29, 0, 0, 0)},
		{"never", "0 0 30 2 *", at(utc, 2026, 3, 1, 0, 0, 0), time.Time{}},
		{"hourly", "@hourly", at(utc, 2026, 3, 1, 10, 59, 59), at(utc, 2026, 3, 1, 11, 0, 0)},
		{"daily", "@daily", at(utc, 2026, 3, 1, 10, 0, 0), at(utc, 2026, 3, 2, 0, 0, 0)},
		{"midnight", "@midnight", at(utc, 2026, 3, 1, 10, 0, 0), at(utc, 2026, 3, 2, 0, 0, 0)},
		{"weekly", "@weekly", at(utc, 2026, 3, 2, 0, 0, 0), at(utc, 2026, 3, 8, 0, 0, 0)},
		{"monthly", "@monthly", at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2026, 4, 1, 0, 0, 0)},
		{"yearly", "@yearly", at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"annually", "@ANNUALLY", at(utc, 2026, 12, 31, 23, 59, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"time zone", "0 9 * * *", at(ny, 2026, 3, 2, 10, 0, 0), at(ny, 2026, 3, 3, 9, 0, 0)},
		{"time zone on the spring-forward day", "0 9 * * *", at(ny, 2026, 3, 7, 10, 0, 0), at(ny, 2026, 3, 8, 9, 0, 0)},
		{"skipped wall time does not fire", "30 2 * * *", at(ny, 2026, 3, 8, 0, 0, 0), at(ny, 2026, 3, 9, 2, 30, 0)},
		{"every minute across spring-forward", "* * * * *", at(ny, 2026, 3, 8, 1, 59, 0), at(ny, 2026, 3, 8, 3, 0, 0)},
		{"half-hour offset", "0 11 * * *", at(kolkata, 2026, 3, 1, 10, 15, 0), at(kolkata, 2026, 3, 1, 11, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.schedule)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.schedule, err)
			}
			got := s.Next(tt.from)
			if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != tt.from.Location()) {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

func TestNextRepeatsFallBackTime(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	s, err := Parse("30 1 * * *")
	if err != nil {
		t.Fatal(err)
	}
	// On 2026-11-01 01:30 happens twice, at 05:30 and 06:30 UTC.
	first := s.Next(time.Date(2026, 11, 1, 0, 0, 0, 0, ny))
	second := s.Next(first)
	third := s.Next(second)
	want := []time.Time{
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC),
	}
	for i, got := range []time.Time{first, second, third} {
		if !got.Equal(want[i]) {
			t.Errorf("firing %d = %v, want %v", i, got.UTC(), want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
		"* * * 0 *", "* * * * 7", "5-1 * * * *", "*/0 * * * *", "1/x * * * *", "a * * * *", "-1 * * * *",
		"? * * * *", "* * * ? *", "@every 5m", "@reboot", "TZ=UTC * * * * *", "CRON_TZ=UTC * * * * *", "1,,2 * * * *",
	} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", spec)
		}
	}
}

func TestParseAcceptsAndRefuses(t *testing.T) {
	valid := []string{
		"* * * * *", "0 0 1 1 *", "*/15 9-17 * * MON-FRI", "0,30 * ? * ?", "5/10 * * jan,Jul *", " 0  0 * * * ",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@HOURLY",
	}
	for _, s := range valid {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	for _, s := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", "@every 1h", "@reboot", "1,,2 * * * *", "-1 * * * *", "? * * * *",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func TestNextUTC(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		schedule, from, want string
	}{
		{"*/5 * * * *", "2026-01-01T10:02:30Z", "2026-01-01T10:05:00Z"},
		{"0 * * * *", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"},
		{"@daily", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"},
		{"0 9 * * MON", "2026-01-01T00:00:00Z", "2026-01-05T09:00:00Z"},      // 2026-01-01 is a Thursday
		{"0 0 13 * FRI", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},     // either day field
		{"30 6 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T06:30:00Z"},      // next leap day
		{"0 0 30 2 *", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},       // never
		{"15 10-12/2 * * *", "2026-01-01T10:15:00Z", "2026-01-01T12:15:00Z"}, // steps over a range
	}
	for _, tt := range tests {
		s, err := Parse(tt.schedule)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%q after %s = %s, want %s", tt.schedule, tt.from, got.Format(time.RFC3339), tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/15 9-17 * * MON-FRI", "@daily", "5/10 * * jan,Jul *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if next := s.Next(from); !next.IsZero() && !next.After(from) {
			t.Errorf("Next(%q) = %s, not after %s", spec, next, from)
		}
	})
}

// TestNextHalfHourZone: in a zone half an hour off UTC, "0 11 * * *" fires
// at 11:00 local time, not at a UTC hour boundary.
func TestNextHalfHourZone(t *testing.T) {
	kolkata := mustLoad(t, "Asia/Kolkata")
	s, err := Parse("0 11 * * *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 10, 0, 0, 0, kolkata)
	if got, want := s.Next(from), time.Date(2026, 3, 1, 11, 0, 0, 0, kolkata); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", from, got, want)
	}
}
