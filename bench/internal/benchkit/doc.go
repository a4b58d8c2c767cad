// Package benchkit is the harness the benchmark programs under bench/ share:
// their common flags and entry point, a throughput runner, percentiles,
// readings from /proc and the two-target table they print.
package benchkit
