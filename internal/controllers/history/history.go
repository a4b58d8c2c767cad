// Package history keeps the ControllerRevisions of a workload controller
// (StatefulSet, DaemonSet): one revision per distinct pod template, named
// <owner>-<hash>, numbered in the order the templates were last used, so
// that `kubectl rollout history` lists them and `kubectl rollout undo`
// can apply a revision's data back onto the owner.
package history

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
)

// HashLabel is the label on revisions (and on the pods made from them)
// that carries the revision's template hash.
const HashLabel = appsv1.ControllerRevisionHashLabelKey

// templatePatch is the revision data: a strategic merge patch that puts the
// whole template back, which is what `kubectl rollout undo` applies.
type templatePatch struct {
	Spec templatePatchSpec `json:"spec"`
}

type templatePatchSpec struct {
	Template json.RawMessage `json:"template"`
}

// Data returns the revision data recording template.
func Data(template *corev1.PodTemplateSpec) (runtime.RawExtension, error) {
	raw, err := json.Marshal(template)
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("encode pod template: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return runtime.RawExtension{}, fmt.Errorf("decode pod template: %w", err)
	}
	// Replace rather than merge, so fields removed since are removed again
	// on undo.
	fields["$patch"] = "replace"
	withDirective, err := json.Marshal(fields)
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("encode pod template: %w", err)
	}
	out, err := json.Marshal(templatePatch{Spec: templatePatchSpec{Template: withDirective}})
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("encode revision data: %w", err)
	}
	return runtime.RawExtension{Raw: out}, nil
}

// Template decodes the pod template a revision recorded.
func Template(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	raw := rev.Data.Raw
	if raw == nil && rev.Data.Object != nil {
		var err error
		if raw, err = json.Marshal(rev.Data.Object); err != nil {
			return nil, fmt.Errorf("encode revision %s: %w", rev.Name, err)
		}
	}
	var p struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode revision %s: %w", rev.Name, err)
	}
	return &p.Spec.Template, nil
}

// Hash names revision data: FNV-32a over the data and, after a name
// collision, the collision count, encoded with the alphabet that avoids
// vowels and look-alike characters.
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32a()
	_, _ = h.Write(data)
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		_, _ = h.Write(buf[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// Name is the name of owner's revision with hash.
func Name(owner, hash string) string { return owner + "-" + hash }

// SameData reports whether two revisions record the same template.
func SameData(a, b *appsv1.ControllerRevision) bool {
	ta, errA := Template(a)
	tb, errB := Template(b)
	if errA != nil || errB != nil {
		return false
	}
	return apiequality.Semantic.DeepEqual(ta, tb)
}

// withLabel returns a copy of labels with key set to value.
func withLabel(labels map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	maps.Copy(out, labels)
	out[key] = value
	return out
}
