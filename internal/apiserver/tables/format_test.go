package tables

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHumanDuration(t *testing.T) {
	const day = 24 * time.Hour
	const year = 365 * day
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-3 * time.Second, "<invalid>"},
		{-2 * time.Second, "<invalid>"},
		{-1500 * time.Millisecond, "0s"},
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{5 * time.Second, "5s"},
		{119 * time.Second, "119s"},
		{2 * time.Minute, "2m"},
		{3*time.Minute + 2*time.Second, "3m2s"},
		{9*time.Minute + 59*time.Second, "9m59s"},
		{10 * time.Minute, "10m"},
		{10*time.Minute + 30*time.Second, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{5*time.Hour + 10*time.Minute, "5h10m"},
		{7*time.Hour + 59*time.Minute, "7h59m"},
		{8 * time.Hour, "8h"},
		{30*time.Hour + 15*time.Minute, "30h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{2*day + 3*time.Hour, "2d3h"},
		{7*day + 23*time.Hour, "7d23h"},
		{8 * day, "8d"},
		{20*day + 5*time.Hour, "20d"},
		{729 * day, "729d"},
		{2 * year, "2y"},
		{3*year + 12*day, "3y12d"},
		{7*year + 364*day, "7y364d"},
		{8 * year, "8y"},
		{9*year + 100*day, "9y"},
	} {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestAgeSince(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    metav1.Time
		want string
	}{
		{"zero", metav1.Time{}, "<unknown>"},
		{"past", ago(90 * time.Second), "90s"},
		{"future beyond skew", ago(-time.Minute), "<invalid>"},
	} {
		if got := ageSince(tc.t, now); got != tc.want {
			t.Errorf("%s: ageSince = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := microAgeSince(metav1.MicroTime{}, now); got != "<unknown>" {
		t.Errorf("microAgeSince(zero) = %q", got)
	}
}

func TestMoreList(t *testing.T) {
	for _, tc := range []struct {
		items []string
		limit int
		want  string
	}{
		{nil, 3, ""},
		{[]string{"a", "b", "c"}, 3, "a,b,c"},
		{[]string{"a", "b", "c", "d", "e"}, 3, "a,b,c + 2 more..."},
		{[]string{"a", "b", "c"}, 2, "a,b + 1 more..."},
	} {
		if got := moreList(tc.items, tc.limit, ","); got != tc.want {
			t.Errorf("moreList(%q, %d) = %q, want %q", tc.items, tc.limit, got, tc.want)
		}
	}
}

func TestSmallFormatters(t *testing.T) {
	if got := boolPtr(nil) + boolPtr(ptr(true)) + boolPtr(ptr(false)); got != "<unset>TrueFalse" {
		t.Errorf("boolPtr: %q", got)
	}
	if got := quantityString(nil) + " " + quantityString(ptr(resource.MustParse("1Gi"))); got != "<unset> 1Gi" {
		t.Errorf("quantityString: %q", got)
	}
	if got := replicas(nil); got != 1 {
		t.Errorf("replicas(nil) = %d, want the default 1", got)
	}
}
