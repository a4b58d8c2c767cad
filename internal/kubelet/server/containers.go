package server

import (
	"context"
	"net/http"
	"sort"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The CRI labels the kubelet puts on sandboxes and containers.
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
)

// podRef names a pod, and with uid one instance of it, as a kubelet path
// does.
type podRef struct {
	namespace, name, uid string
}

func podRefFrom(r *http.Request) podRef {
	return podRef{namespace: r.PathValue("namespace"), name: r.PathValue("pod"), uid: r.PathValue("uid")}
}

func (p podRef) String() string { return p.namespace + "/" + p.name }

// resolveUID fills in the uid of the pod the API bound to this node under
// the name, when the path gave none: an older pod of the same name may
// still have containers.
func (s *Server) resolveUID(p podRef) podRef {
	if p.uid != "" {
		return p
	}
	for _, pod := range s.opts.Pods() {
		if pod.Namespace == p.namespace && pod.Name == p.name {
			p.uid = string(pod.UID)
			break
		}
	}
	return p
}

func (p podRef) labels() map[string]string {
	l := map[string]string{labelPodName: p.name, labelPodNamespace: p.namespace}
	if p.uid != "" {
		l[labelPodUID] = p.uid
	}
	return l
}

// findContainer returns the container's current instance: the one with
// the highest attempt (restart count). With previous it returns the exited
// instance with the highest attempt below that.
func (s *Server) findContainer(ctx context.Context, p podRef, container string, previous bool) (*runtimeapi.Container, error) {
	p = s.resolveUID(p)
	selector := p.labels()
	selector[labelContainerName] = container
	resp, err := s.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{
		Filter: &runtimeapi.ContainerFilter{LabelSelector: selector},
	})
	if err != nil {
		return nil, runtimeError("list containers", err)
	}
	containers := newestPodOnly(resp.Containers)
	sort.Slice(containers, func(i, j int) bool {
		a, b := containers[i], containers[j]
		if a.GetMetadata().GetAttempt() != b.GetMetadata().GetAttempt() {
			return a.GetMetadata().GetAttempt() > b.GetMetadata().GetAttempt()
		}
		return a.CreatedAt > b.CreatedAt
	})
	if len(containers) == 0 {
		return nil, notFound("container %q in pod %q not found", container, p)
	}
	current := containers[0]
	if !previous {
		return current, nil
	}
	for _, c := range containers[1:] {
		if c.GetMetadata().GetAttempt() < current.GetMetadata().GetAttempt() && c.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			return c, nil
		}
	}
	return nil, badRequest("previous terminated container %q in pod %q not found", container, p.name)
}

// newestPodOnly keeps the containers of the pod instance (uid) whose
// container was created last: without a uid, a name may match a deleted
// pod's leftovers too.
func newestPodOnly(containers []*runtimeapi.Container) []*runtimeapi.Container {
	var newestUID string
	var newest int64
	for _, c := range containers {
		if c.CreatedAt >= newest {
			newest, newestUID = c.CreatedAt, c.Labels[labelPodUID]
		}
	}
	var out []*runtimeapi.Container
	for _, c := range containers {
		if c.Labels[labelPodUID] == newestUID {
			out = append(out, c)
		}
	}
	return out
}

// findSandbox returns the ready sandbox of the pod.
func (s *Server) findSandbox(ctx context.Context, p podRef) (*runtimeapi.PodSandbox, error) {
	p = s.resolveUID(p)
	resp, err := s.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{
		Filter: &runtimeapi.PodSandboxFilter{
			LabelSelector: p.labels(),
			State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		},
	})
	if err != nil {
		return nil, runtimeError("list pod sandboxes", err)
	}
	var found *runtimeapi.PodSandbox
	for _, sb := range resp.Items {
		if found == nil || sb.CreatedAt > found.CreatedAt {
			found = sb
		}
	}
	if found == nil {
		return nil, notFound("pod %q has no running sandbox on this node", p)
	}
	return found, nil
}
