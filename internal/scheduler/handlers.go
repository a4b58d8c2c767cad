package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// addEventHandlers routes informer events: pending pods of this scheduler
// to the queue; assigned, non-terminal pods (of any scheduler: they use
// node resources) and nodes to the cache, each change also offered to the
// queue as a cluster event.
func (s *Scheduler) addEventHandlers() error {
	pods := s.opts.InformerFactory.Core().V1().Pods().Informer()
	nodes := s.opts.InformerFactory.Core().V1().Nodes().Informer()
	assigned, err := pods.AddEventHandler(toolscache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			pod := asPod(obj)
			return pod != nil && pod.Spec.NodeName != "" && !terminal(pod)
		},
		Handler: toolscache.ResourceEventHandlerFuncs{
			AddFunc:    s.addAssignedPod,
			UpdateFunc: s.updateAssignedPod,
			DeleteFunc: s.deleteAssignedPod,
		},
	})
	if err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	pending, err := pods.AddEventHandler(toolscache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			pod := asPod(obj)
			return pod != nil && pod.Spec.NodeName == "" && !terminal(pod) && s.responsibleFor(pod)
		},
		Handler: toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { s.queue.Add(asPod(obj)) },
			UpdateFunc: func(oldObj, newObj any) {
				s.queue.Update(asPod(oldObj), asPod(newObj))
			},
			DeleteFunc: func(obj any) {
				if pod := asPod(obj); pod != nil {
					s.queue.Delete(pod)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	nodeReg, err := nodes.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.addNode,
		UpdateFunc: s.updateNode,
		DeleteFunc: s.deleteNode,
	})
	if err != nil {
		return fmt.Errorf("node informer: %w", err)
	}
	s.synced = []toolscache.InformerSynced{assigned.HasSynced, pending.HasSynced, nodeReg.HasSynced}
	return nil
}

// responsibleFor reports whether pod is this scheduler's to place. The
// API server defaults an empty schedulerName, but a pod may have been
// stored before that default existed.
func (s *Scheduler) responsibleFor(pod *corev1.Pod) bool {
	name := pod.Spec.SchedulerName
	if name == "" {
		name = DefaultSchedulerName
	}
	return name == s.opts.SchedulerName
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// asPod unwraps informer objects, including the tombstones of deletes
// the informer missed.
func asPod(obj any) *corev1.Pod {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

func asNode(obj any) *corev1.Node {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	node, _ := obj.(*corev1.Node)
	return node
}

func (s *Scheduler) addAssignedPod(obj any) {
	pod := asPod(obj)
	s.cache.AddPod(pod)
	s.queue.Nominator().DeleteNominatedPodIfExists(pod)
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.AssignedPodResource, ActionType: framework.Add})
}

func (s *Scheduler) updateAssignedPod(oldObj, newObj any) {
	oldPod, newPod := asPod(oldObj), asPod(newObj)
	s.cache.UpdatePod(oldPod, newPod)
	if action := podChange(oldPod, newPod); action != 0 {
		s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.AssignedPodResource, ActionType: action})
	}
}

func (s *Scheduler) deleteAssignedPod(obj any) {
	pod := asPod(obj)
	if pod == nil {
		return
	}
	s.cache.RemovePod(pod)
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.AssignedPodResource, ActionType: framework.Delete})
}

// podChange says how an assigned pod changed in ways that may let a
// pending pod fit: new labels (affinity, spreading) or smaller requests.
func podChange(oldPod, newPod *corev1.Pod) framework.ActionType {
	var action framework.ActionType
	if !equality.Semantic.DeepEqual(oldPod.Labels, newPod.Labels) {
		action |= framework.UpdatePodLabel
	}
	o, n := framework.PodRequests(oldPod, false), framework.PodRequests(newPod, false)
	if n.MilliCPU < o.MilliCPU || n.Memory < o.Memory || n.EphemeralStorage < o.EphemeralStorage {
		action |= framework.UpdatePodScaleDown
	}
	return action
}

func (s *Scheduler) addNode(obj any) {
	s.cache.AddNode(asNode(obj))
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.Add})
}

func (s *Scheduler) updateNode(oldObj, newObj any) {
	oldNode, newNode := asNode(oldObj), asNode(newObj)
	s.cache.UpdateNode(oldNode, newNode)
	if action := nodeChange(oldNode, newNode); action != 0 {
		s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.NodeResource, ActionType: action})
	}
}

func (s *Scheduler) deleteNode(obj any) {
	node := asNode(obj)
	if node == nil {
		return
	}
	s.cache.RemoveNode(node)
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.NodeResource, ActionType: framework.Delete})
}

// nodeChange says what changed on a node that may let a pending pod fit.
// Heartbeats (condition times, images) are not a change.
func nodeChange(oldNode, newNode *corev1.Node) framework.ActionType {
	var action framework.ActionType
	if !equality.Semantic.DeepEqual(oldNode.Status.Allocatable, newNode.Status.Allocatable) {
		action |= framework.UpdateNodeAllocatable
	}
	if !equality.Semantic.DeepEqual(oldNode.Labels, newNode.Labels) {
		action |= framework.UpdateNodeLabel
	}
	if oldNode.Spec.Unschedulable != newNode.Spec.Unschedulable ||
		!equality.Semantic.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) {
		action |= framework.UpdateNodeTaint
	}
	if conditionStatuses(oldNode) != conditionStatuses(newNode) {
		action |= framework.UpdateNodeCondition
	}
	return action
}

func conditionStatuses(node *corev1.Node) string {
	var out string
	for _, c := range node.Status.Conditions {
		out += string(c.Type) + "=" + string(c.Status) + ";"
	}
	return out
}
