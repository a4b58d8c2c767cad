package runtime

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// RunReservePluginsReserve tells the reserve plugins that pod goes to
// nodeName, stopping at the first failure (the caller then runs
// Unreserve).
func (f *Framework) RunReservePluginsReserve(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeName string) *framework.Status {
	for _, pl := range f.reserve {
		if s := pl.Reserve(ctx, state, pod, nodeName); !s.IsSuccess() {
			if s.IsRejected() {
				return tagged(s, pl.Name())
			}
			return asError(s, "Reserve", pl.Name())
		}
	}
	return nil
}

// RunReservePluginsUnreserve undoes Reserve, in reverse order.
func (f *Framework) RunReservePluginsUnreserve(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeName string) {
	for i := len(f.reserve) - 1; i >= 0; i-- {
		f.reserve[i].Unreserve(ctx, state, pod, nodeName)
	}
}

// RunPermitPlugins asks the permit plugins whether pod may be bound. It
// returns a rejection or error at once; if any plugin says Wait it
// returns Wait with the longest time-out asked for.
func (f *Framework) RunPermitPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeName string) (*framework.Status, time.Duration) {
	var wait time.Duration
	waiting := ""
	for _, pl := range f.permit {
		s, timeout := pl.Permit(ctx, state, pod, nodeName)
		switch {
		case s.IsSuccess():
		case s.Code() == framework.Wait:
			if waiting == "" || timeout > wait {
				wait, waiting = timeout, pl.Name()
			}
		case s.IsRejected():
			return tagged(s, pl.Name()), 0
		default:
			return asError(s, "Permit", pl.Name()), 0
		}
	}
	if waiting != "" {
		return framework.NewStatus(framework.Wait).WithPlugin(waiting), wait
	}
	return nil, 0
}

// RunBindPlugins binds pod to nodeName with the first bind plugin that
// does not Skip. If all skip, the result is Skip.
func (f *Framework) RunBindPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeName string) *framework.Status {
	for _, pl := range f.bind {
		s := pl.Bind(ctx, state, pod, nodeName)
		switch {
		case s.IsSkip():
			continue
		case s.IsSuccess():
			return nil
		case s.IsRejected():
			return tagged(s, pl.Name())
		default:
			return asError(s, "Bind", pl.Name())
		}
	}
	return framework.NewStatus(framework.Skip)
}
