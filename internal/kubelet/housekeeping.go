package kubelet

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// housekeepingInterval is how often every pod is synced again (so
// configMap, secret and token volumes stay current) and orphans are
// looked for.
const housekeepingInterval = 20 * time.Second

// runHousekeeping resyncs pods and removes the runtime's and the disk's
// leftovers of pods that no longer exist: sandboxes of deleted pods
// (deleted while the agent was down, say) and their volumes.
func (k *Kubelet) runHousekeeping(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(housekeepingInterval):
		}
		if !k.pods.HasSynced() {
			continue
		}
		known := map[types.UID]bool{}
		for _, pod := range k.Pods() {
			known[pod.UID] = true
			k.loop.Enqueue(string(pod.UID))
		}
		k.enqueueOrphans(ctx, known)
		k.backoff.GC()
	}
}

// enqueueOrphans hands the worker every pod UID the runtime or the volume
// directory has but the API server does not: the worker removes them.
func (k *Kubelet) enqueueOrphans(ctx context.Context, known map[types.UID]bool) {
	sbs, err := k.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		klog.FromContext(ctx).V(2).Info("Listing sandboxes failed", "err", err)
		return
	}
	for _, sb := range sbs.Items {
		if uid := types.UID(sb.Labels[LabelPodUID]); uid != "" && !known[uid] {
			k.loop.Enqueue(string(uid))
		}
	}
	dirs, err := k.volumes.PodDirs()
	if err != nil {
		return
	}
	for _, uid := range dirs {
		if !known[uid] {
			k.loop.Enqueue(string(uid))
		}
	}
}
