package server

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// serveSummary answers GET /stats/summary.
func (s *Server) serveSummary(w http.ResponseWriter, r *http.Request) {
	summary, err := s.summary(r.Context())
	if err != nil {
		writeStatus(w, err)
		return
	}
	writeJSON(w, http.StatusOK, summary)
}

// summary samples the node from /proc and the pods' running containers
// from the runtime.
func (s *Server) summary(ctx context.Context) (*Summary, error) {
	now := time.Now()
	node, err := readNodeStats(s.opts.ProcRoot, now)
	if err != nil {
		return nil, internalError(err)
	}
	node.NodeName = s.opts.NodeName
	node.CPU.UsageNanoCores = s.stats.rate("node", now, *node.CPU.UsageCoreNanoSeconds)
	pods, err := s.podStats(ctx, now)
	if err != nil {
		return nil, err
	}
	return &Summary{Node: *node, Pods: pods}, nil
}

func (s *Server) podStats(ctx context.Context, now time.Time) ([]PodStats, error) {
	sandboxes, err := s.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
	}})
	if err != nil {
		return nil, runtimeError("list pod sandboxes", err)
	}
	containers, err := s.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
	}})
	if err != nil {
		return nil, runtimeError("list containers", err)
	}
	stats, err := s.runtime.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{})
	if err != nil {
		return nil, runtimeError("list container stats", err)
	}
	byID := map[string]*runtimeapi.ContainerStats{}
	for _, st := range stats.Stats {
		byID[st.GetAttributes().GetId()] = st
	}
	pods := map[string]*PodStats{}
	for _, sb := range sandboxes.Items {
		pods[sb.Id] = &PodStats{
			PodRef: PodReference{
				Name: sb.GetMetadata().GetName(), Namespace: sb.GetMetadata().GetNamespace(), UID: sb.GetMetadata().GetUid(),
			},
			StartTime:  metav1.NewTime(time.Unix(0, sb.CreatedAt)),
			Containers: []ContainerStats{},
			CPU:        &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: new(uint64)},
			Memory:     &MemoryStats{Time: metav1.NewTime(now), WorkingSetBytes: new(uint64), UsageBytes: new(uint64)},
		}
	}
	for _, c := range containers.Containers {
		pod := pods[c.PodSandboxId]
		st := byID[c.Id]
		if pod == nil || st == nil {
			continue
		}
		cs := ContainerStats{Name: c.GetMetadata().GetName(), StartTime: metav1.NewTime(time.Unix(0, c.CreatedAt))}
		if cpu := st.GetCpu(); cpu.GetUsageCoreNanoSeconds() != nil {
			usage := cpu.GetUsageCoreNanoSeconds().GetValue()
			cs.CPU = &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: &usage}
			if cpu.GetUsageNanoCores() != nil {
				cores := cpu.GetUsageNanoCores().GetValue()
				cs.CPU.UsageNanoCores = &cores
			} else {
				cs.CPU.UsageNanoCores = s.stats.rate(c.Id, now, usage)
			}
			*pod.CPU.UsageCoreNanoSeconds += usage
			if cs.CPU.UsageNanoCores != nil {
				if pod.CPU.UsageNanoCores == nil {
					pod.CPU.UsageNanoCores = new(uint64)
				}
				*pod.CPU.UsageNanoCores += *cs.CPU.UsageNanoCores
			}
		}
		if mem := st.GetMemory(); mem != nil {
			cs.Memory = &MemoryStats{
				Time:            metav1.NewTime(now),
				WorkingSetBytes: value(mem.GetWorkingSetBytes()),
				UsageBytes:      value(mem.GetUsageBytes()),
				AvailableBytes:  value(mem.GetAvailableBytes()),
				RSSBytes:        value(mem.GetRssBytes()),
				PageFaults:      value(mem.GetPageFaults()),
				MajorPageFaults: value(mem.GetMajorPageFaults()),
			}
			if cs.Memory.WorkingSetBytes != nil {
				*pod.Memory.WorkingSetBytes += *cs.Memory.WorkingSetBytes
			}
			if cs.Memory.UsageBytes != nil {
				*pod.Memory.UsageBytes += *cs.Memory.UsageBytes
			}
		}
		pod.Containers = append(pod.Containers, cs)
	}
	out := make([]PodStats, 0, len(pods))
	for _, p := range pods {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].PodRef, out[j].PodRef
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	s.stats.prune(now)
	return out, nil
}

func value(v *runtimeapi.UInt64Value) *uint64 {
	if v == nil {
		return nil
	}
	n := v.GetValue()
	return &n
}

// rates turns cumulative CPU time into usage: nanocores since the
// previous sample of the same key.
type rates struct {
	mu      sync.Mutex
	samples map[string]sample
}

type sample struct {
	at    time.Time
	value uint64
	rate  *uint64 // the rate computed when this sample was taken
}

// minRateWindow keeps close scrapes from computing a rate over too short a
// window to mean anything: within it the previous rate is answered.
const minRateWindow = time.Second

// staleSample is how long a key that is no longer sampled is kept.
const staleSample = 10 * time.Minute

func newRates() *rates { return &rates{samples: map[string]sample{}} }

// rate records value for key at now and returns the usage in nanocores
// since the previous sample; nil on the first sample or after a counter
// reset.
func (r *rates) rate(key string, now time.Time, value uint64) *uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, ok := r.samples[key]
	if ok && now.Sub(prev.at) < minRateWindow {
		return prev.rate
	}
	var out *uint64
	if ok && value >= prev.value && now.After(prev.at) {
		n := uint64(float64(value-prev.value) / now.Sub(prev.at).Seconds())
		out = &n
	}
	r.samples[key] = sample{at: now, value: value, rate: out}
	return out
}

// prune forgets keys not sampled for a while (containers that are gone).
func (r *rates) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.samples {
		if now.Sub(s.at) > staleSample {
			delete(r.samples, k)
		}
	}
}
