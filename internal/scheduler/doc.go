// Package scheduler assigns pending pods to nodes, one pod at a time like
// kube-scheduler: it takes the next pod from the queue, filters and scores
// the nodes of a fresh snapshot with the profile's plugins, assumes the
// pod on the best node in the cache and binds it in the background while
// the next pod is scheduled. Pods that fit nowhere get preemption, a
// PodScheduled=False condition and a FailedScheduling event, and wait in
// the queue for a cluster change that may help.
package scheduler
