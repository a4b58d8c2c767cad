package framework

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
)

// Plugin is what every plugin is: a name, unique in the registry.
type Plugin interface {
	Name() string
}

// PreFilterResult narrows the nodes worth filtering; nil NodeNames means
// all nodes.
type PreFilterResult struct {
	NodeNames sets.Set[string]
}

// PreFilterPlugin runs once per scheduling cycle before filtering: it
// checks the pod itself and precomputes state for Filter. Returning Skip
// means the plugin's Filter is not called for this pod.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) (*PreFilterResult, *Status)
	// PreFilterExtensions returns nil if the plugin's state does not
	// depend on other pods.
	PreFilterExtensions() PreFilterExtensions
}

// PreFilterExtensions update a plugin's pre-filter state when preemption
// (or nominated pods) adds or removes a pod on a node while evaluating.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// FilterPlugin decides whether pod may run on one node. Filter is called
// concurrently for different nodes and must only read state.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) *Status
}

// NodeToStatus maps node names to the status filtering gave them; nodes
// not in the map (filtered out before) have AbsentStatus.
type NodeToStatus struct {
	Statuses     map[string]*Status
	AbsentStatus *Status
}

// Get returns the status of node name.
func (m *NodeToStatus) Get(name string) *Status {
	if s, ok := m.Statuses[name]; ok {
		return s
	}
	return m.AbsentStatus
}

// PostFilterResult says where a pod was nominated to run after preemption.
type PostFilterResult struct {
	NominatedNodeName string
}

// PostFilterPlugin runs when no node fits (preemption).
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *corev1.Pod, filtered *NodeToStatus) (*PostFilterResult, *Status)
}

// PreScorePlugin precomputes state for Score over the nodes that passed
// filtering. Returning Skip means the plugin's Score is not called.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status
}

// MaxNodeScore and MinNodeScore bound the score a plugin gives a node
// after normalisation.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// NodeScore is one node's score from one plugin.
type NodeScore struct {
	Name  string
	Score int64
}

// ScorePlugin ranks nodes that passed filtering. Score is called
// concurrently for different nodes.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions returns nil if scores need no normalisation.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalise a plugin's scores to [MinNodeScore,
// MaxNodeScore] after all nodes are scored.
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *corev1.Pod, scores []NodeScore) *Status
}

// ReservePlugin is told when a node is chosen (Reserve) and when the choice
// is undone (Unreserve, which must be idempotent).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string)
}

// PermitPlugin may approve, deny or hold (Wait, with a timeout) a pod
// before it is bound.
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) (*Status, time.Duration)
}

// BindPlugin binds a pod to a node; Skip passes to the next bind plugin.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
}

// ActionType is what happened to a resource, for re-queueing.
type ActionType uint

// Actions a plugin can ask to be re-tried on.
const (
	Add ActionType = 1 << iota
	Delete
	// UpdateNodeAllocatable … UpdateNodeTaint are the node changes that
	// can make a pod fit; UpdatePodLabel and UpdatePodScaleDown the pod
	// changes (of assigned pods).
	UpdateNodeAllocatable
	UpdateNodeLabel
	UpdateNodeTaint
	UpdateNodeCondition
	UpdatePodLabel
	UpdatePodScaleDown
	// Update is any update.
	Update = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition | UpdatePodLabel | UpdatePodScaleDown
	All    = Add | Delete | Update
)

// EventResource names what changed.
type EventResource string

// Resources the scheduler watches for re-queueing.
const (
	NodeResource          EventResource = "Node"
	AssignedPodResource   EventResource = "AssignedPod"
	NamespaceResource     EventResource = "Namespace"
	ServiceResource       EventResource = "Service"
	PriorityClassResource EventResource = "PriorityClass"
)

// ClusterEvent is a change that may make an unschedulable pod schedulable.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
}

// EnqueueExtensions is implemented by filter plugins (and others that can
// reject a pod) to say which cluster events could make a pod they rejected
// fit; the queue retries such a pod only on those events (and after a
// time-out).
type EnqueueExtensions interface {
	Plugin
	EventsToRegister() []ClusterEvent
}

// SharedLister reads the snapshot taken at the start of the cycle.
type SharedLister interface {
	NodeInfos() NodeInfoLister
}

// NodeInfoLister lists the snapshot's NodeInfos. Callers must not modify
// what it returns.
type NodeInfoLister interface {
	List() ([]*NodeInfo, error)
	HavePodsWithAffinityList() ([]*NodeInfo, error)
	HavePodsWithRequiredAntiAffinityList() ([]*NodeInfo, error)
	Get(nodeName string) (*NodeInfo, error)
}

// NodeChangeLister is implemented by snapshots that know which of their
// nodes each update replaced, so that a plugin keeping sums over every
// node from cycle to cycle revisits only those: a scheduling cycle
// changes a node or two of thousands. Updates are numbered; positions are
// SnapshotIndex values.
type NodeChangeLister interface {
	// NodeChangesSince returns the positions whose NodeInfo was replaced
	// by the updates after update (possibly repeated; valid until the
	// next update), and the latest update's number. ok is false when the
	// snapshot cannot tell: the node list was rebuilt (nodes came, went
	// or moved) since, the changes were forgotten, or the snapshot's
	// NodeInfos are not its own copies (plugin tests change them in
	// place); every node must then be revisited.
	NodeChangesSince(update uint64) (positions []int, latest uint64, ok bool)
}

// Handle is what a plugin factory receives: access to the snapshot, the
// API, informers, events and the ability to run the filters (for
// preemption's what-if evaluation).
type Handle interface {
	SnapshotSharedLister() SharedLister
	ClientSet() kubernetes.Interface
	SharedInformerFactory() informers.SharedInformerFactory
	EventRecorder() events.EventRecorder
	// RunFilterPlugins runs every filter plugin on nodeInfo (stopping at
	// the first rejection).
	RunFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) *Status
	// RunPreFilterExtensionAddPod / RemovePod call every pre-filter
	// plugin's extensions.
	RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
	// NominatedPodsForNode returns pods nominated (by preemption) to run on
	// nodeName that have not yet been bound.
	NominatedPodsForNode(nodeName string) []*PodInfo
	// Parallelize runs work(i) for i in [0, n) on the scheduler's workers.
	Parallelize(ctx context.Context, n int, work func(i int))
}

// PluginFactory builds a plugin. Plugin arguments are fixed in code
// (Kubernetes' defaults); there is no configuration file.
type PluginFactory func(ctx context.Context, h Handle) (Plugin, error)
