// Package imagelocality implements the ImageLocality score: prefer nodes
// that already hold a pod's images, so it starts without pulling them.
//
// A node scores the sum, over the pod's containers, of the size of each
// image it holds times the share of candidate nodes holding that image
// (so that an image on a few nodes does not draw every pod there, which
// upstream calls spreading). The sum is clamped between 23 MiB (smaller
// images pull fast, so holding them is no advantage) and 1000 MiB per
// container, and mapped linearly onto 0..100.
//
// Upstream counts the share over all nodes in the cluster, from counts
// its snapshot keeps per image; tug's NodeInfo keeps no such counts, so
// the share is over the nodes that passed filtering, which PreScore sees
// anyway. When no candidate node reports any of the pod's images,
// PreScore skips the plugin: every node would score 0.
package imagelocality

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "ImageLocality"

// Thresholds of the summed, spread-scaled image sizes (see the package
// comment).
const (
	mb                    int64 = 1024 * 1024
	minThreshold                = 23 * mb
	maxContainerThreshold       = 1000 * mb
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// image is one container's image: the names a node may list it under,
// and the share of candidate nodes that hold it.
type image struct {
	names  imageNames
	spread float64
}

// preScoreState holds the pod's images and its container count.
type preScoreState struct {
	images     []image
	containers int64
}

// Clone returns the state itself: it never changes once written.
func (s *preScoreState) Clone() framework.StateData { return s }

// ImageLocality scores nodes by the pod's images they already hold.
type ImageLocality struct{}

var (
	_ framework.PreScorePlugin = (*ImageLocality)(nil)
	_ framework.ScorePlugin    = (*ImageLocality)(nil)
	_ framework.PluginFactory  = New
)

// New returns the plugin; it needs nothing from the handle.
func New(_ context.Context, _ framework.Handle) (framework.Plugin, error) {
	return &ImageLocality{}, nil
}

// Name returns Name.
func (*ImageLocality) Name() string { return Name }

// PreScore resolves the pod's image names once and counts, among nodes,
// those holding each image. It returns Skip when no node holds any.
func (*ImageLocality) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) *framework.Status {
	containers := len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	if len(nodes) == 0 || containers == 0 {
		return framework.NewStatus(framework.Skip)
	}
	images := make([]image, 0, containers)
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if cs[i].Image != "" {
				images = append(images, image{names: namesOf(cs[i].Image)})
			}
		}
	}
	counts := make([]int, len(images))
	held := false
	for _, ni := range nodes {
		// Nodes that report no images cost one length check.
		if len(ni.ImageStates) == 0 {
			continue
		}
		for i := range images {
			if _, ok := images[i].names.lookup(ni.ImageStates); ok {
				counts[i]++
				held = true
			}
		}
	}
	if !held {
		return framework.NewStatus(framework.Skip)
	}
	for i := range images {
		images[i].spread = float64(counts[i]) / float64(len(nodes))
	}
	state.Write(preScoreStateKey, &preScoreState{images: images, containers: int64(containers)})
	return nil
}

// Score maps the spread-scaled sizes of the pod's images nodeInfo holds
// onto [0, 100].
func (*ImageLocality) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	if nodeInfo.Node == nil {
		return 0, framework.AsStatus(errors.New("node not found"))
	}
	d, err := state.Read(preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(fmt.Errorf("read %s state: %w", preScoreStateKey, err))
	}
	s, ok := d.(*preScoreState)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("%s state has type %T", preScoreStateKey, d))
	}
	if len(nodeInfo.ImageStates) == 0 {
		return 0, nil
	}
	var sum int64
	for i := range s.images {
		if size, ok := s.images[i].names.lookup(nodeInfo.ImageStates); ok {
			sum += int64(float64(size) * s.images[i].spread)
		}
	}
	return scale(sum, s.containers), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (*ImageLocality) ScoreExtensions() framework.ScoreExtensions { return nil }

// scale clamps sum to [minThreshold, maxContainerThreshold*containers]
// and maps that range linearly onto [0, MaxNodeScore].
func scale(sum, containers int64) int64 {
	maxThreshold := maxContainerThreshold * containers
	sum = min(max(sum, minThreshold), maxThreshold)
	return framework.MaxNodeScore * (sum - minThreshold) / (maxThreshold - minThreshold)
}

// imageNames are the names a node may list an image under: as the pod
// writes it (with ":latest" added when it has neither tag nor digest, as
// the runtime reads it), and fully qualified with the default registry
// ("nginx" is listed by containerd as "docker.io/library/nginx:latest").
// The second is empty when it is the same as the first.
type imageNames [2]string

func namesOf(ref string) imageNames {
	// A ':' after the last '/' starts a tag or is inside a digest; one
	// before it belongs to a registry host's port.
	if strings.LastIndex(ref, ":") <= strings.LastIndex(ref, "/") {
		ref += ":latest"
	}
	full := qualify(ref)
	if full == ref {
		full = ""
	}
	return imageNames{ref, full}
}

// qualify prefixes ref with Docker Hub's registry (and its "library"
// namespace for one-part names) unless its first part names a registry
// host: one with a '.' or ':', or localhost.
func qualify(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	switch {
	case !found:
		return "docker.io/library/" + ref
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return ref
	default:
		return "docker.io/" + ref
	}
}

// lookup returns the size of the image in states under either name.
func (n *imageNames) lookup(states map[string]int64) (int64, bool) {
	for _, name := range n {
		if name == "" {
			continue
		}
		if size, ok := states[name]; ok {
			return size, true
		}
	}
	return 0, false
}
