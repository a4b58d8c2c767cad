package server

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Summary is the /stats/summary document. Its JSON is field-compatible
// with the kubelet's stats/v1alpha1 Summary for the parts tug fills (node,
// pod and container CPU and memory), so readers of upstream's summary,
// such as a metrics pipeline for kubectl top, read it too.
type Summary struct {
	Node NodeStats  `json:"node"`
	Pods []PodStats `json:"pods"`
}

// NodeStats is the node's usage.
type NodeStats struct {
	NodeName string `json:"nodeName"`
	// StartTime is when the node booted.
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
}

// PodStats is a pod's usage: the sum of its running containers'.
type PodStats struct {
	PodRef     PodReference     `json:"podRef"`
	StartTime  metav1.Time      `json:"startTime"`
	Containers []ContainerStats `json:"containers"`
	CPU        *CPUStats        `json:"cpu,omitempty"`
	Memory     *MemoryStats     `json:"memory,omitempty"`
}

// PodReference names a pod.
type PodReference struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// ContainerStats is one running container's usage.
type ContainerStats struct {
	Name      string       `json:"name"`
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
}

// CPUStats is CPU usage at Time.
type CPUStats struct {
	Time metav1.Time `json:"time"`
	// UsageNanoCores is the average usage since the previous sample, in
	// nanocores (1e9 is one core); absent on the first sample.
	UsageNanoCores *uint64 `json:"usageNanoCores,omitempty"`
	// UsageCoreNanoSeconds is the cumulative CPU time.
	UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds,omitempty"`
}

// MemoryStats is memory usage at Time.
type MemoryStats struct {
	Time metav1.Time `json:"time"`
	// AvailableBytes is what is left for use.
	AvailableBytes *uint64 `json:"availableBytes,omitempty"`
	// UsageBytes is all memory in use, page cache included.
	UsageBytes *uint64 `json:"usageBytes,omitempty"`
	// WorkingSetBytes is the memory that cannot be reclaimed under
	// pressure: what kubectl top shows and eviction watches.
	WorkingSetBytes *uint64 `json:"workingSetBytes,omitempty"`
	RSSBytes        *uint64 `json:"rssBytes,omitempty"`
	PageFaults      *uint64 `json:"pageFaults,omitempty"`
	MajorPageFaults *uint64 `json:"majorPageFaults,omitempty"`
}
