package kubelet

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// relistInterval is how often the runtime's containers are listed to
// notice those that exited or changed, as the kubelet's PLEG does.
const relistInterval = time.Second

// runRelist wakes the worker of every pod whose containers or sandboxes
// changed state since the last look.
func (k *Kubelet) runRelist(ctx context.Context) {
	seen := map[string]string{} // container or sandbox id -> state
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(relistInterval):
		}
		if err := k.relist(ctx, seen); err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).V(2).Info("Listing runtime containers failed", "err", err)
		}
	}
}

func (k *Kubelet) relist(ctx context.Context, seen map[string]string) error {
	cs, err := k.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return err
	}
	sbs, err := k.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	now := make(map[string]string, len(cs.Containers)+len(sbs.Items))
	changed := map[types.UID]bool{}
	note := func(id, state, uid string) {
		now[id] = state
		if uid != "" && seen[id] != state {
			changed[types.UID(uid)] = true
		}
	}
	for _, c := range cs.Containers {
		note(c.Id, c.State.String(), c.Labels[LabelPodUID])
	}
	for _, sb := range sbs.Items {
		note(sb.Id, sb.State.String(), sb.Labels[LabelPodUID])
	}
	for id := range seen {
		if _, ok := now[id]; !ok {
			delete(seen, id)
		}
	}
	k.statuses.retain(now)
	for id, st := range now {
		seen[id] = st
	}
	for uid := range changed {
		k.loop.Enqueue(string(uid))
	}
	return nil
}
