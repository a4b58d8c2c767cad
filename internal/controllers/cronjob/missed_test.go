package cronjob

import (
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/cron"
)

func TestMissedTimes(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		schedule  string
		earliest  time.Time
		now       time.Time
		wantLast  time.Time
		wantCount int
	}{
		{"nothing due", "* * * * *", base, base.Add(59 * time.Second), time.Time{}, 0},
		{"one due", "* * * * *", base, base.Add(time.Minute), base.Add(time.Minute), 1},
		{"earliest excluded", "* * * * *", base, base.Add(90 * time.Second), base.Add(time.Minute), 1},
		{"several", "*/5 * * * *", base, base.Add(17 * time.Minute), base.Add(15 * time.Minute), 3},
		{"exactly the limit", "* * * * *", base, base.Add(100 * time.Minute), base.Add(100 * time.Minute), 100},
		{"one past the limit", "* * * * *", base, base.Add(101 * time.Minute), base.Add(101 * time.Minute), 101},
		{"far too many", "* * * * *", base, base.Add(72*time.Hour + 30*time.Second), base.Add(72 * time.Hour), 72 * 60},
		{"sparse and old", "0 0 1 1 *", base.AddDate(-10, 0, 0), base, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 10},
		{"hourly, too many", "@hourly", base.AddDate(0, 0, -30), base.Add(30 * time.Minute), base, 30 * 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cron.Parse(tt.schedule)
			if err != nil {
				t.Fatal(err)
			}
			last, count := missedTimes(s, tt.earliest, tt.now)
			if !last.Equal(tt.wantLast) || count != tt.wantCount {
				t.Errorf("missedTimes = %v, %d; want %v, %d", last, count, tt.wantLast, tt.wantCount)
			}
		})
	}
}
