package statefulset

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// actionKind is what a sync does to one ordinal.
type actionKind string

const (
	// create makes the missing pod of an ordinal.
	create actionKind = "create"
	// recreate deletes a failed or succeeded pod so that it is made anew.
	recreate actionKind = "recreate"
	// condemn deletes a pod whose ordinal is beyond spec.replicas.
	condemn actionKind = "condemn"
	// update deletes a pod of an old revision so that it is made anew
	// from the update revision.
	update actionKind = "update"
)

// action is one step of a plan.
type action struct {
	kind    actionKind
	ordinal int
}

// view is what a plan is made from.
type view struct {
	start, replicas int
	// ordered is OrderedReady pod management: one pod at a time, each
	// waiting for the one before it to be available.
	ordered bool
	// rolling is the RollingUpdate strategy; partition is the first index
	// (ordinal - start) it updates and maxUnavailable how many pods in
	// range may be unavailable while it does.
	rolling        bool
	partition      int
	maxUnavailable int
	updateRevision string
	minReady       time.Duration
	now            time.Time
	// pods are the set's pods by ordinal.
	pods map[int]*corev1.Pod
}

// plan returns what one sync does, in order, and how long until a ready
// pod becomes available (0 when none waits). OrderedReady plans stop at the
// first pod that is not yet available: a later ordinal never starts, and a
// scale-down or update never proceeds, before the earlier ones are up; a
// scale-down also halts at an unavailable condemned pod unless it is the
// lowest unhealthy ordinal.
func plan(v view) ([]action, time.Duration) {
	var actions []action
	var wait time.Duration
	noteWait := func(left time.Duration) {
		if left > 0 && (wait == 0 || left < wait) {
			wait = left
		}
	}
	end := v.start + v.replicas
	blocked := false
	for ord := v.start; ord < end && !blocked; ord++ {
		pod := v.pods[ord]
		switch {
		case pod == nil:
			actions = append(actions, action{create, ord})
			blocked = v.ordered
		case terminating(pod):
			blocked = v.ordered
		case finished(pod):
			actions = append(actions, action{recreate, ord})
			blocked = v.ordered
		default:
			ok, left := availableIn(pod, v.minReady, v.now)
			noteWait(left)
			blocked = v.ordered && !ok
		}
	}
	if blocked {
		return actions, wait
	}
	var condemned []int
	for ord := range v.pods {
		if ord < v.start || ord >= end {
			condemned = append(condemned, ord)
		}
	}
	slices.Sort(condemned)
	// As upstream does, OrderedReady removes an unhealthy condemned pod
	// only when it is the lowest unhealthy ordinal, and halts on any other:
	// a set whose pods are failing stops scaling down instead of removing
	// pods that might be the last copies of their data.
	firstUnhealthy := -1
	for _, ord := range condemned {
		if _, ready := readySince(v.pods[ord]); !ready {
			firstUnhealthy = ord
			break
		}
	}
	slices.Reverse(condemned)
	for _, ord := range condemned {
		pod := v.pods[ord]
		if terminating(pod) {
			if v.ordered {
				return actions, wait // the next one goes when this one is gone
			}
			continue
		}
		if v.ordered && ord != firstUnhealthy {
			if ok, left := availableIn(pod, v.minReady, v.now); !ok {
				noteWait(left)
				return actions, wait
			}
		}
		actions = append(actions, action{condemn, ord})
		if v.ordered {
			return actions, wait
		}
	}
	if !v.rolling {
		return actions, wait
	}
	return append(actions, updates(v)...), wait
}

// updates returns the update deletions of a RollingUpdate: pods of an old
// revision with index >= partition, from the highest ordinal down, as long
// as no more than maxUnavailable pods in range would be unavailable.
// Deleting a pod that is unavailable anyway costs nothing.
func updates(v view) []action {
	unavailable := 0
	for ord := v.start; ord < v.start+v.replicas; ord++ {
		pod := v.pods[ord]
		if pod == nil || terminating(pod) {
			unavailable++
			continue
		}
		if ok, _ := availableIn(pod, v.minReady, v.now); !ok {
			unavailable++
		}
	}
	budget := max(v.maxUnavailable, 1) - unavailable
	var out []action
	for idx := v.replicas - 1; idx >= v.partition; idx-- {
		ord := v.start + idx
		pod := v.pods[ord]
		if pod == nil || terminating(pod) || revisionOf(pod) == v.updateRevision {
			continue
		}
		if ok, _ := availableIn(pod, v.minReady, v.now); !ok {
			out = append(out, action{update, ord})
			continue
		}
		if budget <= 0 {
			break
		}
		out = append(out, action{update, ord})
		budget--
	}
	return out
}
