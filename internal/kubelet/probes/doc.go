// Package probes runs containers' liveness, readiness and startup probes
// (exec, HTTP, TCP and gRPC) and keeps their outcome per container, for the
// kubelet's restarts and the pod's Ready condition.
package probes
