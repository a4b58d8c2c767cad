package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// serveResourceMetrics answers GET /metrics/resource: the summary's CPU and
// working-set figures in the Prometheus text format, under the metric
// names the kubelet's resource metrics endpoint uses.
func (s *Server) serveResourceMetrics(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	summary, err := s.summary(r.Context())
	if err != nil {
		writeMetricFamily(&buf, "scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise")
		fmt.Fprintf(&buf, "scrape_error 1\n")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(buf.Bytes())
		return
	}
	ts := func(t int64) string { return fmt.Sprintf(" %d", t) }
	node := summary.Node
	writeMetricFamily(&buf, "node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds")
	fmt.Fprintf(&buf, "node_cpu_usage_seconds_total %g%s\n",
		float64(*node.CPU.UsageCoreNanoSeconds)/1e9, ts(node.CPU.Time.UnixMilli()))
	writeMetricFamily(&buf, "node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes")
	fmt.Fprintf(&buf, "node_memory_working_set_bytes %d%s\n", *node.Memory.WorkingSetBytes, ts(node.Memory.Time.UnixMilli()))

	writeMetricFamily(&buf, "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container in core-seconds")
	for _, p := range summary.Pods {
		for _, c := range p.Containers {
			if c.CPU != nil && c.CPU.UsageCoreNanoSeconds != nil {
				fmt.Fprintf(&buf, "container_cpu_usage_seconds_total{%s} %g%s\n", containerLabels(p.PodRef, c.Name),
					float64(*c.CPU.UsageCoreNanoSeconds)/1e9, ts(c.CPU.Time.UnixMilli()))
			}
		}
	}
	writeMetricFamily(&buf, "container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes")
	for _, p := range summary.Pods {
		for _, c := range p.Containers {
			if c.Memory != nil && c.Memory.WorkingSetBytes != nil {
				fmt.Fprintf(&buf, "container_memory_working_set_bytes{%s} %d%s\n", containerLabels(p.PodRef, c.Name),
					*c.Memory.WorkingSetBytes, ts(c.Memory.Time.UnixMilli()))
			}
		}
	}
	writeMetricFamily(&buf, "pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds")
	for _, p := range summary.Pods {
		fmt.Fprintf(&buf, "pod_cpu_usage_seconds_total{%s} %g%s\n", podLabels(p.PodRef),
			float64(*p.CPU.UsageCoreNanoSeconds)/1e9, ts(p.CPU.Time.UnixMilli()))
	}
	writeMetricFamily(&buf, "pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes")
	for _, p := range summary.Pods {
		fmt.Fprintf(&buf, "pod_memory_working_set_bytes{%s} %d%s\n", podLabels(p.PodRef),
			*p.Memory.WorkingSetBytes, ts(p.Memory.Time.UnixMilli()))
	}
	writeMetricFamily(&buf, "scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise")
	fmt.Fprintf(&buf, "scrape_error 0\n")
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write(buf.Bytes())
}

func writeMetricFamily(buf *bytes.Buffer, name, kind, help string) {
	fmt.Fprintf(buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
}

func podLabels(p PodReference) string {
	return fmt.Sprintf(`namespace="%s",pod="%s"`, escapeLabel(p.Namespace), escapeLabel(p.Name))
}

func containerLabels(p PodReference, container string) string {
	return fmt.Sprintf(`container="%s",%s`, escapeLabel(container), podLabels(p))
}

// escapeLabel escapes a label value as the Prometheus text format asks.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
