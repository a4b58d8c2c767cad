// Package framework is the contract of tug's scheduler: the Status values
// plugins return, the per-cycle state they share, the NodeInfo snapshot
// they read, and one small interface per Kubernetes extension point
// (pre-filter, filter, post-filter, pre-score, score, reserve, permit,
// bind). Plugins live in ../plugins/<name>; the scheduler in ../ runs them.
//
// Everything handed to a plugin (pods, NodeInfos, the snapshot) is shared
// with the scheduler and other plugins: plugins must not mutate it.
package framework
