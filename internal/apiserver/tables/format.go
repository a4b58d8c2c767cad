package tables

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HumanDuration renders d the way kubectl shows ages: two significant
// units while the larger one is small ("3m2s", "5h10m", "2d3h", "3y12d"),
// one unit once it is large ("10m", "30h", "20d", "9y"). A negative
// duration of up to a second (clock skew) is "0s"; more is "<invalid>".
func HumanDuration(d time.Duration) string {
	seconds := int64(d / time.Second)
	minutes := int64(d / time.Minute)
	hours := int64(d / time.Hour)
	days := hours / 24
	switch {
	case seconds < -1:
		return "<invalid>"
	case seconds < 0:
		return "0s"
	case seconds < 2*60:
		return strconv.FormatInt(seconds, 10) + "s"
	case minutes < 10:
		return twoUnits(minutes, "m", seconds%60, "s")
	case minutes < 3*60:
		return strconv.FormatInt(minutes, 10) + "m"
	case hours < 8:
		return twoUnits(hours, "h", minutes%60, "m")
	case hours < 48:
		return strconv.FormatInt(hours, 10) + "h"
	case hours < 8*24:
		return twoUnits(days, "d", hours%24, "h")
	case days < 2*365:
		return strconv.FormatInt(days, 10) + "d"
	case days < 8*365:
		return twoUnits(days/365, "y", days%365, "d")
	default:
		return strconv.FormatInt(days/365, 10) + "y"
	}
}

// twoUnits renders "<a><unitA><b><unitB>", leaving out a zero b.
func twoUnits(a int64, unitA string, b int64, unitB string) string {
	if b == 0 {
		return strconv.FormatInt(a, 10) + unitA
	}
	return strconv.FormatInt(a, 10) + unitA + strconv.FormatInt(b, 10) + unitB
}

// ageSince is the AGE of something that happened at t: "<unknown>" for a
// zero time.
func ageSince(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}

// microAgeSince is ageSince for a MicroTime.
func microAgeSince(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}

// createdAt is the CREATED AT cell: the creation time in UTC, RFC 3339.
func createdAt(m metav1.ObjectMeta) string {
	return m.CreationTimestamp.UTC().Format(time.RFC3339)
}

// orNone returns s, or "<none>" if it is empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// orUnset returns *s, or "<unset>" if s is nil.
func orUnset[S ~string](s *S) string {
	if s == nil {
		return "<unset>"
	}
	return string(*s)
}

// boolPtr renders an optional bool: "True", "False" or "<unset>".
func boolPtr(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	default:
		return "False"
	}
}

// moreList joins up to max items with sep and says how many more there
// are: "a,b,c + 2 more...".
func moreList(items []string, limit int, sep string) string {
	if len(items) <= limit {
		return strings.Join(items, sep)
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:limit], sep), len(items)-limit)
}

// containersAndImages returns the CONTAINERS and IMAGES cells of a pod
// template: names and images joined by commas.
func containersAndImages(spec corev1.PodSpec) (names, images string) {
	n := make([]string, 0, len(spec.Containers))
	i := make([]string, 0, len(spec.Containers))
	for _, c := range spec.Containers {
		n = append(n, c.Name)
		i = append(i, c.Image)
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// replicas dereferences an optional replica count; nil is 1, the API
// default.
func replicas(r *int32) int64 {
	if r == nil {
		return 1
	}
	return int64(*r)
}

// quantityString renders an optional quantity, "<unset>" if nil.
func quantityString(q *resource.Quantity) string {
	if q == nil {
		return "<unset>"
	}
	return q.String()
}
