package metrics

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape serves one request to m.Handler() and returns every series of the
// families whose name starts with prefix, keyed as series formats them.
// A histogram contributes its _count and _sum series.
func scrape(t testing.TB, m *Metrics, prefix string) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	got := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				got[series(name, labels)] = metric.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				got[series(name, labels)] = metric.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				got[series(name+"_count", labels)] = float64(metric.GetHistogram().GetSampleCount())
				got[series(name+"_sum", labels)] = metric.GetHistogram().GetSampleSum()
			default:
				t.Fatalf("%s: unexpected type %v", name, f.GetType())
			}
		}
	}
	return got
}

// series formats a series as name{label="value",...}, labels sorted.
func series(name string, labels map[string]string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=\"" + labels[k] + "\"")
	}
	b.WriteByte('}')
	return b.String()
}

func TestNewRegistersRuntimeCollectors(t *testing.T) {
	m := New()
	for _, prefix := range []string{"go_goroutines", "process_cpu_seconds_total", "tug_storage_operations_total"} {
		if len(scrape(t, m, prefix)) == 0 {
			t.Errorf("/metrics has no series starting with %s", prefix)
		}
	}
	// Two servers in one process keep separate counts.
	other := New()
	m.storage.ok[opGet].Inc()
	if got := scrape(t, other, "tug_storage_operations_total")[`tug_storage_operations_total{operation="get",result="ok"}`]; got != 0 {
		t.Errorf("a second Metrics sees the first one's count: %v", got)
	}
}
