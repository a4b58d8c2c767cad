package framework

import (
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// AffinityTerm is a pod (anti-)affinity term with its selectors parsed once.
type AffinityTerm struct {
	// Namespaces the term matches pods in (the pod's own namespace when
	// the term lists none and has no namespace selector).
	Namespaces sets.Set[string]
	// NamespaceSelector, if not nil, also matches namespaces by label
	// (labels.Everything() for an empty selector).
	NamespaceSelector labels.Selector
	Selector          labels.Selector
	TopologyKey       string
}

// Matches reports whether pod (whose namespace carries nsLabels) is
// selected by the term.
func (t *AffinityTerm) Matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if t.Namespaces.Has(pod.Namespace) || (t.NamespaceSelector != nil && t.NamespaceSelector.Matches(nsLabels)) {
		return t.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// WeightedAffinityTerm is a preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// PodInfo is a pod with its affinity terms parsed, as the scheduler keeps
// it; ParseError is set when a selector in them is invalid.
type PodInfo struct {
	Pod                        *corev1.Pod
	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	ParseError                 error
}

// NewPodInfo parses pod's affinity terms.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod}
	a := pod.Spec.Affinity
	if a == nil {
		return pi
	}
	if a.PodAffinity != nil {
		pi.RequiredAffinityTerms = pi.parseTerms(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.PreferredAffinityTerms = pi.parseWeighted(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if a.PodAntiAffinity != nil {
		pi.RequiredAntiAffinityTerms = pi.parseTerms(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.PreferredAntiAffinityTerms = pi.parseWeighted(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return pi
}

func (pi *PodInfo) parseTerms(terms []corev1.PodAffinityTerm) []AffinityTerm {
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pi.Pod, &terms[i])
		if err != nil {
			pi.ParseError = err
			continue
		}
		out = append(out, t)
	}
	return out
}

func (pi *PodInfo) parseWeighted(terms []corev1.WeightedPodAffinityTerm) []WeightedAffinityTerm {
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pi.Pod, &terms[i].PodAffinityTerm)
		if err != nil {
			pi.ParseError = err
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out
}

// newAffinityTerm parses a term of pod. matchLabelKeys and
// mismatchLabelKeys are folded into the selector with pod's own label
// values, as the API server does for upstream.
func newAffinityTerm(pod *corev1.Pod, term *corev1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("pod affinity term selector: %w", err)
	}
	if term.LabelSelector == nil {
		sel = labels.Nothing()
	}
	for _, key := range term.MatchLabelKeys {
		if v, ok := pod.Labels[key]; ok {
			if r, err := labels.NewRequirement(key, "in", []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	for _, key := range term.MismatchLabelKeys {
		if v, ok := pod.Labels[key]; ok {
			if r, err := labels.NewRequirement(key, "notin", []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	t := AffinityTerm{Namespaces: sets.New(term.Namespaces...), Selector: sel, TopologyKey: term.TopologyKey}
	if term.NamespaceSelector != nil {
		nsSel, err := metav1.LabelSelectorAsSelector(term.NamespaceSelector)
		if err != nil {
			return AffinityTerm{}, fmt.Errorf("pod affinity term namespace selector: %w", err)
		}
		t.NamespaceSelector = nsSel
	} else if len(term.Namespaces) == 0 {
		t.Namespaces.Insert(pod.Namespace)
	}
	return t, nil
}

// HostPort is a host port a pod uses: protocol, IP ("0.0.0.0" for all) and
// port.
type HostPort struct {
	Protocol corev1.Protocol
	IP       string
	Port     int32
}

// HostPortInfo is the set of host ports in use on a node.
type HostPortInfo map[HostPort]struct{}

// PodHostPorts lists the host ports pod asks for (containers and
// restartable init containers), with an empty IP read as 0.0.0.0 and an
// empty protocol as TCP.
func PodHostPorts(pod *corev1.Pod) []HostPort {
	var out []HostPort
	add := func(cs []corev1.Container) {
		for i := range cs {
			for _, p := range cs[i].Ports {
				if p.HostPort <= 0 {
					continue
				}
				hp := HostPort{Protocol: p.Protocol, IP: p.HostIP, Port: p.HostPort}
				if hp.Protocol == "" {
					hp.Protocol = corev1.ProtocolTCP
				}
				if hp.IP == "" {
					hp.IP = "0.0.0.0"
				}
				out = append(out, hp)
			}
		}
	}
	add(pod.Spec.Containers)
	add(pod.Spec.InitContainers)
	return out
}

// Conflicts reports whether p clashes with a port in use: same protocol and
// port, and the same IP or either side on 0.0.0.0.
func (h HostPortInfo) Conflicts(p HostPort) bool {
	for used := range h {
		if used.Protocol == p.Protocol && used.Port == p.Port &&
			(used.IP == p.IP || used.IP == "0.0.0.0" || p.IP == "0.0.0.0") {
			return true
		}
	}
	return false
}

// NodeInfo is the scheduler's view of one node: the Node object and the
// pods assigned (or assumed) to it, with sums kept up to date.
type NodeInfo struct {
	Node *corev1.Node
	// Name, Unschedulable and Taints are Node's name, spec.unschedulable
	// and spec.taints ("", false and none without a Node), copied by
	// SetNode to sit next to Node: the filters and scores read them for
	// every node a pod is tried on, and reading them through Node was a
	// cache miss per node (a third of the filtering time, with 5,000 nodes).
	Name          string
	Unschedulable bool
	Taints        []corev1.Taint
	Pods          []*PodInfo
	// Allocatable is the node's; Requested sums the pods' requests, and
	// NonZeroRequested counts the scheduler's defaults for containers that
	// request no cpu or memory. They are held in the NodeInfo, next to
	// Pods, rather than behind pointers: the resource filter reads them
	// for thousands of nodes a pod, and each pointer was a cache miss.
	Allocatable      Resource
	Requested        Resource
	NonZeroRequested Resource
	// PodsWithAffinity have required or preferred pod affinity or
	// anti-affinity terms; PodsWithRequiredAntiAffinity required
	// anti-affinity terms. InterPodAffinity reads only these.
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo
	UsedPorts                    HostPortInfo
	// ImageStates are the node's images by name, from node.status.images.
	ImageStates map[string]int64
	// Generation grows by one on every change, so a snapshot can copy
	// only the NodeInfos that changed since it last looked.
	Generation int64
	// LabelsGeneration changes (in the scheduler's cache) only when a pod
	// comes or goes, or one changes what label selectors count: its
	// namespace, labels or deletion. A pod's node reporting it running
	// changes Generation, not this: plugins that count matching pods
	// (PodTopologySpread) keep their counts of the node. Values come from
	// NextLabelsGeneration: two NodeInfos of a node share one only when one
	// is a copy of the other with the same pods.
	LabelsGeneration int64
	// SnapshotIndex is the NodeInfo's position in its snapshot's list of
	// all nodes, set by the snapshot (0 outside one). Plugins index
	// per-node memos by it instead of hashing node names; a memo entry
	// must still check it belongs to this very NodeInfo.
	SnapshotIndex int
}

// labelsGenerations numbers LabelsGeneration values process-wide.
var labelsGenerations atomic.Int64

// NextLabelsGeneration returns a LabelsGeneration no NodeInfo has had. A
// count per NodeInfo would let a copy changed on its own (preemption's
// what-if copies) reach the number its original reaches next.
func NextLabelsGeneration() int64 { return labelsGenerations.Add(1) }

// NewNodeInfo returns a NodeInfo holding pods and no Node yet.
func NewNodeInfo(pods ...*corev1.Pod) *NodeInfo {
	n := &NodeInfo{UsedPorts: HostPortInfo{}}
	for _, p := range pods {
		n.AddPod(p)
	}
	return n
}

// SetNode sets or replaces the node object.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.Node = node
	n.Name, n.Unschedulable, n.Taints = node.Name, node.Spec.Unschedulable, node.Spec.Taints
	n.Allocatable = *NewResource(node.Status.Allocatable)
	n.ImageStates = make(map[string]int64, len(node.Status.Images))
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			n.ImageStates[name] = img.SizeBytes
		}
	}
	n.Generation++
	n.LabelsGeneration = NextLabelsGeneration()
}

// NodeName is the node's name, or "" before SetNode.
func (n *NodeInfo) NodeName() string {
	if n == nil {
		return ""
	}
	return n.Name
}

// AddPod accounts for pod on this node.
func (n *NodeInfo) AddPod(pod *corev1.Pod) { n.AddPodInfo(NewPodInfo(pod)) }

// AddPodInfo accounts for a parsed pod on this node.
func (n *NodeInfo) AddPodInfo(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if len(pi.RequiredAffinityTerms)+len(pi.RequiredAntiAffinityTerms)+len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0 {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if len(pi.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	n.Requested.AddResource(PodRequests(pi.Pod, false))
	n.NonZeroRequested.AddResource(PodRequests(pi.Pod, true))
	for _, p := range PodHostPorts(pi.Pod) {
		n.UsedPorts[p] = struct{}{}
	}
	n.Generation++
	n.LabelsGeneration = NextLabelsGeneration()
}

// RemovePod forgets pod (matched by UID); it reports whether it was there.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) bool {
	uid := pod.UID
	i := indexOf(n.Pods, uid)
	if i < 0 {
		return false
	}
	old := n.Pods[i].Pod
	n.Pods = removeAt(n.Pods, i)
	if j := indexOf(n.PodsWithAffinity, uid); j >= 0 {
		n.PodsWithAffinity = removeAt(n.PodsWithAffinity, j)
	}
	if j := indexOf(n.PodsWithRequiredAntiAffinity, uid); j >= 0 {
		n.PodsWithRequiredAntiAffinity = removeAt(n.PodsWithRequiredAntiAffinity, j)
	}
	n.Requested.SubtractResource(PodRequests(old, false))
	n.NonZeroRequested.SubtractResource(PodRequests(old, true))
	n.UsedPorts = HostPortInfo{}
	for _, pi := range n.Pods {
		for _, p := range PodHostPorts(pi.Pod) {
			n.UsedPorts[p] = struct{}{}
		}
	}
	n.Generation++
	n.LabelsGeneration = NextLabelsGeneration()
	return true
}

func indexOf(pods []*PodInfo, uid types.UID) int {
	for i, pi := range pods {
		if pi.Pod.UID == uid {
			return i
		}
	}
	return -1
}

// removeAt drops element i without keeping order, and without touching the
// backing array other NodeInfos may share after Clone.
func removeAt(pods []*PodInfo, i int) []*PodInfo {
	out := make([]*PodInfo, 0, len(pods)-1)
	out = append(out, pods[:i]...)
	return append(out, pods[i+1:]...)
}

// Clone returns a copy that can change independently (the pods themselves
// are shared and immutable).
func (n *NodeInfo) Clone() *NodeInfo {
	out := &NodeInfo{
		Node:                         n.Node,
		Name:                         n.Name,
		Unschedulable:                n.Unschedulable,
		Taints:                       n.Taints,
		Pods:                         append([]*PodInfo(nil), n.Pods...),
		PodsWithAffinity:             append([]*PodInfo(nil), n.PodsWithAffinity...),
		PodsWithRequiredAntiAffinity: append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...),
		UsedPorts:                    make(HostPortInfo, len(n.UsedPorts)),
		Requested:                    *n.Requested.Clone(),
		NonZeroRequested:             *n.NonZeroRequested.Clone(),
		Allocatable:                  *n.Allocatable.Clone(),
		ImageStates:                  n.ImageStates,
		Generation:                   n.Generation,
		LabelsGeneration:             n.LabelsGeneration,
	}
	for p := range n.UsedPorts {
		out.UsedPorts[p] = struct{}{}
	}
	return out
}
