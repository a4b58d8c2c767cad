package kubelet

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Waiting reasons of image problems.
const (
	reasonErrImagePull      = "ErrImagePull"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
)

// ensureImage makes c's image present as its imagePullPolicy says.
func (k *Kubelet) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container) error {
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = corev1.PullIfNotPresent
		if tag := imageTag(c.Image); tag == "" || tag == "latest" {
			policy = corev1.PullAlways
		}
	}
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	st, err := k.images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: spec})
	if err != nil {
		return fmt.Errorf("image status %s: %w", c.Image, err)
	}
	present := st.Image != nil
	switch {
	case policy == corev1.PullNever && !present:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		k.setStartError(pod.UID, c.Name, reasonErrImageNeverPull, msg)
		k.recorder.Event(pod, corev1.EventTypeWarning, reasonErrImageNeverPull, msg)
		return fmt.Errorf("%s", msg)
	case present && policy != corev1.PullAlways:
		k.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
		return nil
	}
	key := "pull/" + backoffKey(pod.UID, c.Name)
	if k.backoff.IsInBackOffSinceUpdate(key, k.clock.Now()) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		k.setStartError(pod.UID, c.Name, reasonImagePullBackOff, msg)
		k.recorder.Event(pod, corev1.EventTypeNormal, "BackOff", msg)
		return fmt.Errorf("%s", msg)
	}
	k.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", c.Image)
	if _, err := k.images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: spec}); err != nil {
		if present {
			// An Always pull that fails still runs the image at hand.
			return nil
		}
		k.backoff.Next(key, k.clock.Now())
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
		k.setStartError(pod.UID, c.Name, reasonErrImagePull, msg)
		k.recorder.Event(pod, corev1.EventTypeWarning, "Failed", msg)
		return fmt.Errorf("%s", msg)
	}
	k.backoff.Reset(key)
	k.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q", c.Image)
	return nil
}

// imageTag is the tag of an image reference, "" when it has none (or is
// pinned by digest, which counts as a tag).
func imageTag(ref string) string {
	if strings.Contains(ref, "@") {
		return "digest"
	}
	name := ref
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		name = ref[i+1:]
	}
	if _, tag, ok := strings.Cut(name, ":"); ok {
		return tag
	}
	return ""
}
